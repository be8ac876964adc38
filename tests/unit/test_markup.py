"""Message bodies render to safe HTML whatever a person types."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.conversations.markup import render

ALLOWED = {"p", "br", "em", "strong", "code", "pre", "a", "ul", "ol", "li", "blockquote"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _assert_safe(html: str) -> None:
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), value


def test_markdown_subset_renders() -> None:
    assert render("**bold** _it_ `code`") == (
        "<p><strong>bold</strong> <em>it</em> <code>code</code></p>"
    )
    assert 'href="https://example.com"' in render("[site](https://example.com)")
    assert 'rel="noopener noreferrer nofollow"' in render("[site](https://example.com)")


@pytest.mark.parametrize(
    "payload",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<svg/onload=alert(1)>",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_hostile_input_is_shown_as_text_never_as_markup(payload: str) -> None:
    html = render(payload)
    _assert_safe(html)
    if payload.startswith("<"):
        assert "&lt;" in html, "typed markup stays visible, as text"


@given(st.text(max_size=200))
def test_no_input_produces_a_tag_or_attribute_outside_the_allow_list(text: str) -> None:
    _assert_safe(render(text))


@given(
    st.text(
        alphabet=st.sampled_from(list("abcXYZéàç019 ,.'?!;:%€$£/"))
        | st.characters(categories=["L"]),
        max_size=60,
    )
)
def test_the_plain_text_shortcut_renders_exactly_as_the_parser(text: str) -> None:
    from relais.conversations.markup import render_markdown

    text = text.strip()
    if text:
        assert render(text) == render_markdown(text)
