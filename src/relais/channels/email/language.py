"""The language a mail is written in: an ISO 639-1 code ("fr", "en", ...) or "unknown".

Detection is lingua's (``lingua-language-detector``): its n-gram models ship inside the wheel,
so nothing is downloaded at run time, and it is made for short text, which is what a customer's
new words in a reply are. It is asked to choose among a few European languages, not only the
ones Relais answers in: asked "French or English?", German mail comes out English and Spanish
mail French, whereas among seven candidates a German mail is German and is then reported as
such (or "unknown" when the caller's languages are only French and English).

Low-accuracy mode (trigrams only) is the default: a process that loaded the seven languages'
models this way weighs 28 MB, against 195 MB in high accuracy (0.1 s to load against 0.8 s).
On the 150 labelled mails of ``tests/data/mail/intent/`` both modes get every body right; on
the subjects alone (two to five words) low accuracy gets 120 and high accuracy 127, so detect
on subject and body together. ``accurate=True`` is there for a deployment of one-line mail.

Pure apart from loading the packaged models once per detector, on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import cache
from typing import Final

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

UNKNOWN: Final = "unknown"
# The candidates: Relais's own languages and the neighbours its mail is most often mistaken for.
CANDIDATES: Final = ("en", "fr", "de", "es", "it", "nl", "pt")
MAX_CHARS: Final = 2000  # the opening of a mail says its language; more only costs time
MIN_LETTERS: Final = 3
# What is not language: addresses and links (whole words, dropped), numbers and symbols.
_LINKS = ("http://", "https://", "www.")
_SYMBOLS = re.compile(r"[\d_#\[\]()<>{}|/\\*=+~^]+")
_LETTER = re.compile(r"[^\W\d_]")


class Detector:
    """A language detector among ``candidates``; answers only with codes in ``answers``.

    ``min_confidence`` is the share lingua gives the winner among the candidates (they sum to
    1): below it the text is "unknown" (one word such as "Merci" is as Italian as French).
    """

    def __init__(
        self,
        answers: Iterable[str] = CANDIDATES,
        *,
        candidates: Iterable[str] = CANDIDATES,
        min_confidence: float = 0.5,
        accurate: bool = False,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence is between 0 and 1")
        self.answers = frozenset(_code(c) for c in answers)
        codes = sorted({_code(c) for c in candidates} | self.answers)
        if len(codes) < 2:
            raise ValueError("a detector chooses among at least two languages")
        self.candidates = tuple(codes)
        self.min_confidence = min_confidence
        self.accurate = accurate
        self._languages = [_lingua(code) for code in codes]
        self._detector: LanguageDetector | None = None
        self._lock = threading.Lock()

    def confidences(self, text: str) -> dict[str, float]:
        """Each candidate's share, best first; empty when the text has too few letters."""
        sample = _sample(text)
        if sample is None:
            return {}
        values = self._built().compute_language_confidence_values(sample)
        return {v.language.iso_code_639_1.name.lower(): v.value for v in values}

    def detect(self, text: str, hint: str | None = None) -> str:
        """The language of ``text``, or ``hint`` (a Content-Language tag such as "fr-FR") when
        the text cannot tell, or "unknown"."""
        ranked = self.confidences(text)
        if ranked:
            code, share = next(iter(ranked.items()))
            if share >= self.min_confidence:  # sure enough: a language we don't answer in too
                return code if code in self.answers else UNKNOWN
        if hint:
            tag = hint.strip().split(",")[0].split("-")[0].strip().lower()
            if tag in self.answers:
                return tag
        return UNKNOWN

    def _built(self) -> LanguageDetector:
        # Models load lazily; the lock keeps two threads from building two detectors.
        with self._lock:
            if self._detector is None:
                builder = LanguageDetectorBuilder.from_languages(*self._languages)
                if not self.accurate:
                    builder = builder.with_low_accuracy_mode()
                self._detector = builder.build()
            return self._detector


def _code(code: str) -> str:
    code = code.strip().lower()
    _lingua(code)
    return code


def _lingua(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        raise ValueError(f"{code!r} is not an ISO 639-1 language code lingua knows") from None


def _sample(text: str) -> str | None:
    """The opening of ``text`` without what is not words; None with too few letters."""
    # Split and filter rather than one regular expression: "\\S+@\\S+" backtracks
    # quadratically on a long word without "@".
    kept = (
        w
        for w in text[: MAX_CHARS * 2].split()
        if "@" not in w and not w.lower().startswith(_LINKS)
    )
    sample = _SYMBOLS.sub(" ", " ".join(kept))[:MAX_CHARS]
    for count, _ in enumerate(_LETTER.finditer(sample), 1):
        if count >= MIN_LETTERS:
            return sample
    return None


@cache
def default_detector() -> Detector:
    """French and English answers among the default candidates: the templates' languages."""
    return Detector(("en", "fr"))


def detect_language(text: str, hint: str | None = None) -> str:
    """ "fr", "en" or "unknown", with the shared default detector."""
    return default_detector().detect(text, hint)
