"""The CRM pop URL: a template such as ``https://crm.example.com/contacts/{external_id}?task={task_id}``
that the desk opens with the task's values. Pure.

Only the placeholders of ``PLACEHOLDERS`` are allowed, without format specs or conversions, and
the template must name an http(s) host before its first placeholder, so that no value can
choose where the link goes: each value is percent-encoded whole (a ``/``, ``?`` or ``#`` in an
external id stays inside its path segment or parameter). A template that breaks these rules is
refused when settings are read, so a bad configuration stops the start-up, not a screen pop.
A value that is missing (an anonymous visitor has no external id), or is ``.`` or ``..`` (a
dot segment, which browsers resolve), gives no URL at all rather than a link to the wrong
record.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

PLACEHOLDERS = frozenset(
    {
        "external_id",  # the contact's id in the company's systems (verified identity only)
        "contact_id",
        "email",  # the contact's first e-mail address
        "phone",  # the contact's first phone number
        "task_id",
        "conversation_id",
        "queue_id",
        "channel",
        "agent_id",
    }
)
MAX_URL = 2000
# Missing, or a dot segment: percent-encoding leaves dots alone, and a browser resolves
# ".../contacts/../view" to ".../view" (and "%2e%2e" likewise), so such a value would move the
# link to another page of the host.
_NO_VALUES = frozenset({"", ".", ".."})


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PopTemplate:
    text: str
    parts: tuple[tuple[str, str | None], ...]  # (literal text, placeholder or None)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for _, name in self.parts if name is not None)

    def render(self, values: Mapping[str, str | None]) -> str | None:
        """The URL with every value percent-encoded, or None if a value is missing."""
        out = []
        for literal, name in self.parts:
            out.append(literal)
            if name is not None:
                value = values.get(name)
                if value is None or value in _NO_VALUES:
                    return None
                out.append(quote(str(value), safe=""))
        url = "".join(out)
        if len(url) > MAX_URL or urlsplit(url).scheme not in ("http", "https"):
            return None
        return url


def parse_template(text: str) -> PopTemplate:
    """Check a template and prepare it; ``TemplateError`` says what is wrong."""
    try:
        pieces = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(f"the URL template is malformed: {exc}") from None
    parts: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is not None:
            if name not in PLACEHOLDERS:
                allowed = ", ".join(f"{{{p}}}" for p in sorted(PLACEHOLDERS))
                raise TemplateError(f"unknown placeholder {{{name}}} (allowed: {allowed})")
            if spec or conversion:
                raise TemplateError(f"placeholder {{{name}}} takes no format or conversion")
        parts.append((literal, name))
    head = parts[0][0] if parts else ""
    fixed = urlsplit(head)
    # The host must be whole before the first value: "https://crm.example.com{x}" would let a
    # value of ".evil.example" change the host.
    if (
        fixed.scheme not in ("http", "https")
        or not fixed.hostname
        or "@" in fixed.netloc
        or not (fixed.path or fixed.query or fixed.fragment)
    ):
        raise TemplateError(
            "the URL template must start with http:// or https://, a host (no credentials) "
            "and the start of a path, before any placeholder"
        )
    return PopTemplate(text, tuple(parts))


@lru_cache(maxsize=16)
def _parsed(text: str) -> PopTemplate:
    return parse_template(text)


def pop_url(templates: Sequence[str | None], values: Mapping[str, str | None]) -> str | None:
    """The first template (the main one, then the fallback) whose values are all known."""
    for text in templates:
        if text:
            url = _parsed(text).render(values)
            if url is not None:
                return url
    return None
