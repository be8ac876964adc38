"""Message bodies to safe HTML: a small Markdown subset, then an allow-list sanitizer.

Raw HTML typed by a person is never interpreted: Markdown runs with ``html=False`` so ``<img …>``
becomes the text "<img …>"; nh3 then removes anything outside the allow-list, a second line of
defence should the renderer ever emit something unexpected.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False}).enable(
    ["emphasis", "backticks", "link", "list", "blockquote", "fence", "newline", "escape"]
)

_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote"}
_ATTRIBUTES = {"a": {"href"}}
_SCHEMES = {"http", "https", "mailto"}


# Most chat messages have no markup at all: letters, digits, spaces and common punctuation, on one
# line. For those the result is known without parsing (a paragraph of the text), which is several
# times cheaper than the parser; tests check that both paths agree.
_PLAIN = re.compile(r"[^\W_]+(?:[ ,.'?!;:%€$£/]+[^\W_]+)*[ ,.'?!;:%€$£/]*")
_LIST_START = re.compile(r"\d+[.)]")


def render(body: str) -> str:
    if _PLAIN.fullmatch(body) and not _LIST_START.match(body):
        return f"<p>{body}</p>"
    return render_markdown(body)


def render_markdown(body: str) -> str:
    html = _md.render(body)
    return str(
        nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            set_tag_attribute_values={"a": {"target": "_blank"}},
        )
    ).strip()
