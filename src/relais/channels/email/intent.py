"""What a mail is about, learnt from how agents resolved past mail: its queue and its tags.

A multinomial naive Bayes over hashed features (words, word pairs, character n-grams of words,
subject words apart), written with the standard library: why not scikit-learn is in
``docs/decisions/0007-email-intent.md``. Learning is counting, so the model learns one resolved
mail at a time (``learn``) as well as from history (``learn_many``), two models trained on two
halves of a history add up to the model trained on all of it (``merge``), and it is stored as
JSON (``to_json`` / ``from_json``), never pickled.

Tags are independent yes/no questions answered from the same counts: "yes" is the counts of
the mails that had the tag, "no" the counts of all mails minus those. They need far more
examples than queues (a tag is a detail inside a queue, and "no" mixes every queue): on the
labelled set, with 4 to 8 mails per tag, the tag scores rank a right tag above a wrong one only
73% of the time, so a tag is said only once ``MIN_TAG_EXAMPLES`` mails carried it.

Naive Bayes adds one log-likelihood per feature, so its posteriors are near 0 or 1 for any mail
of more than a few words. The confidence tempers them: the summed log-likelihoods are scaled to
a mail of ``EVIDENCE`` features before the softmax, which makes them usable against a threshold
(below it the answer is ``None``: the mail is routed by the rules alone).
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from relais.channels.email.text import words

FORMAT: Final = "relais.email.intent/1"
DIMENSIONS: Final = 1 << 18
EVIDENCE: Final = 12.0  # the summed log-likelihoods weigh as much as this many features
MIN_EXAMPLES: Final = 3  # a queue seen fewer times is never predicted
MIN_TAG_EXAMPLES: Final = 20
MAX_LABEL: Final = 200


@dataclass(frozen=True, slots=True)
class Example:
    """A resolved mail: what the customer wrote and where agents filed it."""

    subject: str
    body: str
    queue: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Guess:
    label: str
    confidence: float  # in [0, 1]


@dataclass(frozen=True, slots=True)
class Prediction:
    queue: Guess | None  # None: not sure enough, route by the rules
    tags: tuple[Guess, ...]  # the tags at or above the threshold, surest first
    queues: tuple[Guess, ...]  # every queue learnt enough, surest first (for the explanation)


@dataclass(slots=True)
class _Counts:
    documents: int = 0
    total: int = 0
    features: Counter[int] = field(default_factory=Counter)

    def add(self, found: Counter[int]) -> None:
        self.documents += 1
        self.total += sum(found.values())
        self.features.update(found)

    def merge(self, other: _Counts) -> None:
        self.documents += other.documents
        self.total += other.total
        self.features.update(other.features)

    def within(self, whole: _Counts) -> bool:
        return self.documents <= whole.documents and all(
            n <= whole.features.get(f, 0) for f, n in self.features.items()
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "features": {str(k): v for k, v in sorted(self.features.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> _Counts:
        documents, raw = data["documents"], data["features"]
        if type(documents) is not int or documents < 0 or not isinstance(raw, dict):
            raise ValueError("bad counts")
        found: Counter[int] = Counter()
        for key, value in raw.items():
            feature = int(key)
            if not 0 <= feature < DIMENSIONS or type(value) is not int or value <= 0:
                raise ValueError(f"bad feature count {key!r}: {value!r}")
            found[feature] = value
        return cls(documents, sum(found.values()), found)


def features(subject: str, body: str) -> Counter[int]:
    """Hashed features of a mail: subject words (marked as such), then subject and body words,
    word pairs and the 4- and 5-letter pieces of each word (French endings, typos, compounds)."""
    head = words(subject, 1000)
    text = head + words(body)
    tokens = [f"s:{w}" for w in head]
    for i, word in enumerate(text):
        tokens.append(word)
        if i:
            tokens.append(f"{text[i - 1]} {word}")
        padded = f"<{word}>"
        for n in (4, 5):
            tokens.extend(f"#{padded[j : j + n]}" for j in range(len(padded) - n + 1))
    return Counter(zlib.crc32(t.encode()) & (DIMENSIONS - 1) for t in tokens)


class IntentModel:
    """Queues and tags from subject and body. ``threshold`` is the confidence needed to say."""

    def __init__(self, *, threshold: float = 0.6, alpha: float = 1.0) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold is between 0 and 1")
        if not 0.0 < alpha <= 100.0:
            raise ValueError("alpha (smoothing) is positive")
        self.threshold = threshold
        self.alpha = alpha
        self.all = _Counts()
        self.queues: dict[str, _Counts] = {}
        self.tags: dict[str, _Counts] = {}

    def learn(self, example: Example) -> None:
        """Count one resolved mail."""
        queue = _label(example.queue)
        tags = {_label(t) for t in example.tags}
        found = features(example.subject, example.body)
        self.all.add(found)
        self.queues.setdefault(queue, _Counts()).add(found)
        for tag in tags:
            self.tags.setdefault(tag, _Counts()).add(found)

    def learn_many(self, examples: Iterable[Example]) -> None:
        for example in examples:
            self.learn(example)

    def merge(self, other: IntentModel) -> None:
        """Add what ``other`` learnt (trained elsewhere, or on another period)."""
        self.all.merge(other.all)
        for mine, theirs in ((self.queues, other.queues), (self.tags, other.tags)):
            for label, counts in theirs.items():
                mine.setdefault(label, _Counts()).merge(counts)

    def predict(self, subject: str, body: str) -> Prediction:
        found = features(subject, body)
        ranked = self._rank_queues(found)
        best = ranked[0] if ranked and ranked[0].confidence >= self.threshold else None
        tags = [self._tag(tag, counts, found) for tag, counts in self.tags.items()]
        sure = sorted(
            (g for g in tags if g is not None and g.confidence >= self.threshold),
            key=lambda g: (-g.confidence, g.label),
        )
        return Prediction(queue=best, tags=tuple(sure), queues=tuple(ranked))

    def _rank_queues(self, found: Counter[int]) -> list[Guess]:
        known = {q: c for q, c in self.queues.items() if c.documents >= MIN_EXAMPLES}
        if len(known) < 2:
            return []
        scores = {
            q: self._log_score(c.documents, c.total, c.features.get, found)
            for q, c in known.items()
        }
        return sorted(
            (Guess(q, p) for q, p in _softmax(scores).items()),
            key=lambda g: (-g.confidence, g.label),
        )

    def _tag(self, tag: str, counts: _Counts, found: Counter[int]) -> Guess | None:
        if counts.documents < MIN_TAG_EXAMPLES or counts.documents >= self.all.documents:
            return None
        every, have = self.all.features, counts.features
        yes = self._log_score(counts.documents, counts.total, have.get, found)
        no = self._log_score(
            self.all.documents - counts.documents,
            self.all.total - counts.total,
            lambda f: every.get(f, 0) - have.get(f, 0),
            found,
        )
        return Guess(tag, _softmax({"yes": yes, "no": no})["yes"])

    def _log_score(
        self, documents: int, total: int, count: Callable[[int], int | None], found: Counter[int]
    ) -> float:
        """log P(class) + the tempered log-likelihood of ``found`` in the class."""
        prior = math.log(documents / self.all.documents)
        # Smoothing over the features seen, not the hash space: 2**18 pseudo-counts would
        # drown the counts of any class smaller than a few thousand mails.
        denominator = math.log(total + self.alpha * (len(self.all.features) + 1))
        likelihood = sum(
            n * (math.log((count(f) or 0) + self.alpha) - denominator) for f, n in found.items()
        )
        size = sum(found.values())
        return prior + (likelihood * EVIDENCE / size if size else 0.0)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "threshold": self.threshold,
                "alpha": self.alpha,
                "all": self.all.to_json(),
                "queues": {q: c.to_json() for q, c in sorted(self.queues.items())},
                "tags": {t: c.to_json() for t, c in sorted(self.tags.items())},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> IntentModel:
        """A stored model; anything else (another format, inconsistent counts) is ValueError."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a {FORMAT} model")
            model = cls(threshold=float(data["threshold"]), alpha=float(data["alpha"]))
            model.all = _Counts.from_json(data["all"])
            model.queues = {_label(q): _Counts.from_json(c) for q, c in data["queues"].items()}
            model.tags = {_label(t): _Counts.from_json(c) for t, c in data["tags"].items()}
        except (KeyError, TypeError, AttributeError, RecursionError) as error:
            raise ValueError(f"not a {FORMAT} model: {error!r}") from None
        for counts in (*model.queues.values(), *model.tags.values()):
            if not counts.within(model.all):
                raise ValueError("a label counts more than all mail together")
        return model


def _label(label: str) -> str:
    if not isinstance(label, str) or not label.strip() or len(label.strip()) > MAX_LABEL:
        raise ValueError(f"a label is 1 to {MAX_LABEL} characters")
    return label.strip()


def _softmax(scores: Mapping[str, float]) -> dict[str, float]:
    top = max(scores.values())
    weights = {k: math.exp(v - top) for k, v in scores.items()}
    # Exact, so the same in any order of labels: a model read back from JSON (sorted) predicts
    # the very same confidences as the one that learnt.
    total = math.fsum(weights.values())
    return {k: min(1.0, max(0.0, w / total)) for k, w in weights.items()}
