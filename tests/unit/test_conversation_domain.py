"""The conversation state machine and message rules, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relais.conversations.domain import (
    IllegalTransition,
    InvalidBody,
    clean_body,
    transition,
)

COMMANDS = st.sampled_from(["visitor_message", "agent_message", "resolve"])


def test_agent_reply_makes_it_pending_and_the_visitor_reopens_it() -> None:
    assert transition("open", "agent_message") == "pending"
    assert transition("pending", "visitor_message") == "open"
    assert transition("pending", "resolve") == "resolved"


@pytest.mark.parametrize("command", ["visitor_message", "agent_message", "resolve"])
def test_nothing_happens_to_a_resolved_conversation(command: str) -> None:
    with pytest.raises(IllegalTransition):
        transition("resolved", command)  # type: ignore[arg-type]  # the parameter is a Command


@given(st.lists(COMMANDS, max_size=50))
def test_any_sequence_of_commands_keeps_a_valid_state_and_resolved_is_final(
    commands: list[str],
) -> None:
    status = "open"
    resolved_once = False
    for command in commands:
        try:
            status = transition(status, command)  # type: ignore[arg-type]  # drawn from Command
        except IllegalTransition:
            assert status == "resolved"
            continue
        assert status in ("open", "pending", "resolved")
        if resolved_once:
            pytest.fail("a resolved conversation changed state")
        resolved_once = status == "resolved"


def test_body_is_normalised_and_stripped_of_control_characters() -> None:
    assert clean_body("  hi\r\nthere\x00\x1b[31m  ", max_chars=100) == "hi\nthere[31m"
    assert clean_body("e\u0301", max_chars=10) == "\u00e9"  # NFC


def test_oversized_body_is_refused() -> None:
    with pytest.raises(InvalidBody):
        clean_body("x" * 11, max_chars=10)


@given(st.text(max_size=300))
def test_clean_body_never_returns_control_characters_or_too_much(text: str) -> None:
    try:
        out = clean_body(text, max_chars=200)
    except InvalidBody:
        return
    assert len(out) <= 200
    assert all(ch in "\n\t" or ord(ch) >= 32 for ch in out)
