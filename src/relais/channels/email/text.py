"""Text as the e-mail automation compares it: Unicode-normalised, case- and accent-folded words.

Customers write "reçu", "recu", "REÇU" and "ｒｅçｕ" for one word; rules, the intent classifier and
answer suggestions all see "recu". Folding is NFKD (compatibility forms and ligatures apart,
accents split off), combining marks dropped, then ``casefold`` ("ß" is "ss"). Everything here is
linear in its input and bounded by the caller's cut.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_TEXT: Final = 64 * 1024  # characters read for learning and ranking: the gist is at the top
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")


def fold(text: str) -> str:
    """``text`` normalised for comparison: compatibility forms, no accents, case-folded."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def fold_keep_case(text: str) -> str:
    """Like ``fold`` but keeps the case (for regular expressions, where ``\\W`` is not ``\\w``)."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


def words(text: str, limit: int = MAX_TEXT) -> list[str]:
    """The folded words of the first ``limit`` characters; numbers (order numbers, amounts,
    dates) are dropped: they name one case, not a kind of case."""
    return [w for w in _WORD.findall(fold(text[:limit])) if not _DIGITS.fullmatch(w)]
