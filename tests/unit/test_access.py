"""One access check decides who reads a conversation."""

from __future__ import annotations

from relais.conversations.access import can_read
from relais.conversations.schemas import ConversationRef
from relais.identity.principals import AgentPrincipal, VisitorPrincipal

REF = ConversationRef(id="c", visitor_id="v1", team_id="support", assignee_id="a1")


def test_a_visitor_reads_only_its_own() -> None:
    assert can_read(VisitorPrincipal("v1"), REF)
    assert not can_read(VisitorPrincipal("v2"), REF)
    assert not can_read(VisitorPrincipal("v1"), REF.model_copy(update={"visitor_id": None}))


def test_agents_read_their_teams_or_what_they_hold_supervisors_everything() -> None:
    assert can_read(AgentPrincipal("a2", "B", "agent", frozenset({"support"})), REF)
    assert can_read(AgentPrincipal("a1", "A", "agent", frozenset()), REF)
    assert not can_read(AgentPrincipal("a3", "C", "agent", frozenset({"billing"})), REF)
    assert can_read(AgentPrincipal("s", "S", "supervisor"), REF)
    assert can_read(AgentPrincipal("x", "X", "admin"), REF)
