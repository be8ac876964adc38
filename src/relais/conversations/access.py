"""The one access check for everything that returns conversation data.

REST endpoints, WebSocket frames, replay after a reconnect, attachments and transcripts all call
``can_read``; nothing else decides who sees a conversation.
"""

from __future__ import annotations

from relais.conversations.schemas import ConversationRef
from relais.identity.principals import AgentPrincipal, Principal, VisitorPrincipal


def can_read(principal: Principal, ref: ConversationRef) -> bool:
    if isinstance(principal, VisitorPrincipal):
        return ref.visitor_id is not None and ref.visitor_id == principal.visitor_id
    return _agent_can_read(principal, ref)


def _agent_can_read(agent: AgentPrincipal, ref: ConversationRef) -> bool:
    return (
        agent.sees_everything or ref.assignee_id == agent.agent_id or ref.team_id in agent.team_ids
    )


def can_write(principal: Principal, ref: ConversationRef) -> bool:
    """Who may post in a conversation they can read: the visitor, the agent who holds it, and
    supervisors (who may step in). A team's agent reads the conversations the queue holds for
    the team and its colleagues' ones, but answers only those the ACD gave it: an answer in a
    waiting one would race the queue's offer to somebody else."""
    if isinstance(principal, VisitorPrincipal):
        return can_read(principal, ref)
    return principal.sees_everything or ref.assignee_id == principal.agent_id


def held_by_another(principal: Principal, assignee_id: str | None) -> bool:
    """A conversation an agent may read but does not follow live: another agent of its team
    holds it (supervisors follow everything). Its desk keeps no cursor for it, so heartbeats
    and replays stay the size of the agent's own work, not of the team's."""
    return (
        isinstance(principal, AgentPrincipal)
        and not principal.sees_everything
        and assignee_id is not None
        and assignee_id != principal.agent_id
    )
