"""Suggested answers: past replies to similar questions and articles, ranked by TF-IDF cosine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relais.channels.email.suggest import (
    Article,
    Articles,
    PastReplies,
    Suggestion,
    TextIndex,
    suggest,
)

DATA = Path(__file__).parent.parent / "data" / "mail"
REPLIES: dict[str, str] = json.loads((DATA / "replies.json").read_text("utf-8"))


def labelled() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted((DATA / "intent").glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines()
    ]


def reply_for(mail: dict[str, Any]) -> str:
    return REPLIES[f"{mail['queue']}/{mail['lang']}"]


def test_held_out_mail_gets_the_reply_agents_gave_to_similar_mail() -> None:
    """Each labelled mail answered by its intent's reply in its language; 5-fold."""
    mails = labelled()
    first = top3 = 0
    for fold in range(5):
        replies = PastReplies()
        for i, mail in enumerate(mails):
            if i % 5 != fold:
                question = f"{mail['subject']}\n{mail['body']}"
                replies.add(f"m{i}", question, reply_for(mail), language=mail["lang"])
        for i, mail in enumerate(mails):
            if i % 5 == fold:
                found = suggest(
                    [replies], mail["subject"], mail["body"], language=mail["lang"], min_score=0
                )
                first += bool(found) and found[0].text == reply_for(mail)
                top3 += any(s.text == reply_for(mail) for s in found)
    print(f"right reply first {first / len(mails):.3f}, in the top 3 {top3 / len(mails):.3f}")
    assert first / len(mails) >= 0.7
    assert top3 / len(mails) >= 0.9


def test_a_reply_sent_many_times_is_one_suggestion_that_counts_its_uses() -> None:
    replies = PastReplies()
    replies.add("1", "Where is my parcel?", "We are tracing it.")
    replies.add("2", "My parcel has not arrived", "We are  TRACING it.")  # same, folded
    replies.add("3", "Parcel lost?", "We are tracing it.")
    replies.add("4", "I want an invoice", "Here is your invoice.")
    found = replies.suggest("Parcel", "my parcel has not arrived yet", k=3)
    assert found[0].text == "We are tracing it." and found[0].uses == 3
    assert len({s.text for s in found}) == len(found)
    replies.remove("1")
    replies.remove("2")
    again = replies.suggest("Parcel", "my parcel has not arrived yet", k=3)
    assert again[0].uses == 1 and again[0].id == "3"
    assert len(replies) == 2


def test_language_keeps_french_answers_for_french_mail() -> None:
    replies = PastReplies()
    replies.add("en", "invoice facture", "Here is your invoice.", language="en")
    replies.add("fr", "invoice facture", "Voici votre facture.", language="fr")
    found = replies.suggest("Facture", "invoice facture", k=3, language="fr")
    assert [s.text for s in found] == ["Voici votre facture."]


def test_articles_and_replies_merge_by_score_above_a_floor() -> None:
    articles = Articles(
        [
            Article("kb-1", "Reset your password", "Open Sign in, choose Forgot password..."),
            Article("kb-2", "Return a product", "Print the return label from your orders page."),
            Article("kb-3", "Réinitialiser son mot de passe", "Ouvrez Connexion...", "fr"),
        ]
    )
    replies = PastReplies()
    replies.add("r1", "I forgot my password", "I have sent you a reset link.")
    found = suggest([articles, replies], "Forgot password", "How do I reset my password?", k=5)
    assert {(s.source, s.id) for s in found} == {("article", "kb-1"), ("reply", "r1")}
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    assert next(s for s in found if s.source == "article").title == "Reset your password"
    french = suggest([articles], "mot de passe", "réinitialiser mon mot de passe", language="fr")
    assert [s.id for s in french] == ["kb-3"]
    assert suggest([articles, replies], "Bonjour", "Quel temps fait-il ?") == []


def test_nothing_learnt_nothing_suggested() -> None:
    assert PastReplies().suggest("a", "b", k=3) == []
    assert Articles().suggest("a", "b", k=3) == []
    replies = PastReplies()
    replies.add("blank", "question", "   ")  # an empty reply is not an answer
    assert len(replies) == 0


def test_an_article_edited_is_indexed_again() -> None:
    articles = Articles([Article("kb", "Delivery times", "Three days.")])
    articles.add(Article("kb", "Refund delays", "Five days."))
    assert articles.suggest("refund", "refund delays", k=3)[0].title == "Refund delays"
    assert articles.suggest("delivery", "delivery times", k=3) == []
    articles.remove("kb")
    assert articles.suggest("refund", "refund delays", k=3) == []


class _Fixed:
    """A third kind of source: anything with ``suggest`` fits the protocol."""

    def suggest(
        self, subject: str, body: str, *, k: int, language: str | None = None
    ) -> list[Suggestion]:
        return [Suggestion("canned", "c1", "Canned answer", 0.95)]


def test_any_source_with_the_protocol_is_merged() -> None:
    replies = PastReplies()
    replies.add("r1", "parcel late", "We are tracing it.")
    found = suggest([replies, _Fixed()], "Hello", "my parcel is late, what happened?", k=2)
    assert [s.source for s in found] == ["canned", "reply"]
    assert suggest([replies, _Fixed()], "Hello", "my parcel is late", k=1)[0].source == "canned"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.text(max_size=80), st.text(min_size=1, max_size=40)), max_size=12),
    st.text(max_size=80),
    st.text(max_size=200),
)
def test_scores_are_in_0_1_best_first(
    pairs: list[tuple[str, str]], subject: str, body: str
) -> None:
    replies = PastReplies()
    for i, (question, reply) in enumerate(pairs):
        replies.add(str(i), question, reply)
    found = suggest([replies], subject, body, k=5, min_score=0)
    assert len(found) <= 5
    assert all(0.0 <= s.score <= 1.0 for s in found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_a_document_is_most_similar_to_itself() -> None:
    index = TextIndex()
    index.add("a", "refund for my broken lamp please")
    index.add("b", "where is my parcel")
    index.add("c", "invoice with VAT number")
    best, score = index.search("refund for my broken lamp please")[0]
    assert best == "a" and score == pytest.approx(1.0)


def test_norms_are_kept_while_the_index_grows_a_little_and_scores_stay_close() -> None:
    index = TextIndex()
    for i in range(300):
        index.add(f"d{i}", f"question item{i} about parcel{i % 7} and refund{i % 11}")
    exact = index.search("question item5 about parcel5 and refund5")[0]
    index.add("late", "a question added afterwards about invoices")  # +0.3%: norms kept
    again = index.search("question item5 about parcel5 and refund5")[0]
    assert again[0] == exact[0] == "d5"
    assert again[1] == pytest.approx(exact[1], abs=0.01)
    for i in range(10):  # past 1%: computed again, exact for the new size
        index.add(f"more{i}", "another invoice question")
    fresh = TextIndex()
    fresh.documents, fresh.postings = index.documents, index.postings
    assert index.search("invoice question")[0][1] == pytest.approx(
        fresh.search("invoice question")[0][1]
    )
