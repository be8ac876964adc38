"""Text tests that an admin writes and a stranger's mail is fed to: never slow, never fooled by
case, accents or Unicode look-alikes.

Every test compares folded text (``text.fold``: NFKD, no accents, case-folded) with a folded
value, so "Remboursé", "REMBOURSE" and "rembourse" are one word. ``regex`` and ``glob`` run on
RE2, whose matching time is linear in the text whatever the pattern: ``(a+)+$``, which keeps
Python's ``re`` busy for years on a 1 MB body, takes milliseconds (``tests/unit/
test_email_triage.py``). Back-references and look-arounds, the features that need
backtracking, are refused when the rule is saved, with RE2's own message. Patterns are compiled
once and cached.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final, Literal

import re2

from relais.channels.email.text import fold, fold_keep_case

Op = Literal["equals", "contains", "starts_with", "ends_with", "word", "glob", "regex"]
MAX_PATTERN: Final = 1000
_RE2_MEMORY: Final = 8 << 20  # bytes for one compiled pattern; RE2 refuses a bigger program
# Around a whole word or phrase: start or end of text, or anything but a letter or digit.
_EDGE_BEFORE: Final = r"(?:^|[^\pL\pN])"
_EDGE_AFTER: Final = r"(?:$|[^\pL\pN])"


class PatternError(ValueError):
    """A value that cannot be a pattern: says why, in RE2's words for a regular expression."""


def check(op: Op, value: str) -> str:
    """``value`` if ``op`` can use it; else ``PatternError``. Called when a rule is saved."""
    if not value:
        raise PatternError("a pattern is not empty")
    if len(value) > MAX_PATTERN:
        raise PatternError(f"a pattern is at most {MAX_PATTERN} characters")
    if op in ("regex", "glob", "word"):
        _compiled(op, value)
    return value


def matches(op: Op, value: str, folded: str) -> bool:
    """Whether ``folded`` (text already passed through ``text.fold``) passes the test."""
    if op in ("regex", "glob", "word"):
        return _compiled(op, value).search(folded) is not None
    needle = fold(value)
    if op == "equals":
        return folded == needle
    if op == "contains":
        return needle in folded
    if op == "starts_with":
        return folded.startswith(needle)
    return folded.endswith(needle)  # ends_with


@lru_cache(maxsize=4096)
def _compiled(op: Op, value: str) -> Any:  # re2 has no type information
    if op == "regex":
        # Case is kept in the pattern (``\W`` is not ``\w``); the text is folded and RE2 ignores
        # case, so "Facture" finds "facture".
        source = fold_keep_case(value)
    elif op == "glob":
        source = "^" + "".join(_glob_piece(c) for c in fold(value)) + "$"
    else:  # word
        source = _EDGE_BEFORE + re2.escape(fold(value)) + _EDGE_AFTER
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = _RE2_MEMORY
    try:
        return re2.compile(source, options)
    except re2.error as error:
        detail = error.args[0] if error.args else error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(f"{value!r} is not a pattern RE2 accepts: {detail}") from None


def _glob_piece(char: str) -> str:
    if char == "*":
        return ".*"
    if char == "?":
        return "."
    return str(re2.escape(char))
