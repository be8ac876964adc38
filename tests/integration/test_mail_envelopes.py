"""The desk's view of an e-mail conversation (GET /conversations/{id}/mail) against a running
Relais: mail in over SMTP into the listener, answers out through a real SMTP server that takes
some and refuses others for good."""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from relais.channels.email.parse import parse_message
from tests.conftest import free_port
from tests.helpers import Agent, eventually, login, new_visitor
from tests.integration.mail_helpers import SUPPORT, make_mail
from tests.integration.test_mail_exchange import Sink, mail_server, relay, send


def held_by(agent: Agent, conversation_id: str) -> Callable[[], Awaitable[None]]:
    """A check for `eventually`: the ACD has given the conversation to the agent."""

    async def check() -> None:
        c = (await agent.get(f"/api/v1/conversations/{conversation_id}")).json()
        assert c["assignee_id"] == agent.id

    return check


class RefusingSink(Sink):
    """Takes every mail except those to an address with "refused" in it (a 550: for good)."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if any("refused" in r for r in envelope.rcpt_tos):
            return "550 5.1.1 mailbox unavailable"
        return await super().handle_DATA(server, session, envelope)


async def test_the_desk_reads_each_mails_envelope_and_where_each_answer_stands(
    database_url: str, tmp_path: Path
) -> None:
    sink = RefusingSink(free_port())
    await sink.start()
    listen = free_port()
    server = await mail_server(
        database_url, tmp_path, listen=f"127.0.0.1:{listen}", **relay(sink.port)
    )
    try:
        alice = await login(server.base, "alice@test.example")
        await alice.presence("available")
        desk = await alice.ws()
        raw = make_mail(
            subject="Colis 1042 jamais arrivé",
            text="Bonjour, mon colis 1042 n'est pas arrivé.",
            headers={"Cc": "Paul <paul@client.example>"},
        )
        await send(listen, raw)
        frame = await desk.wait_for(
            lambda f: f["type"] == "message" and "colis 1042" in f["message"]["body"], 10
        )
        conversation_id = frame["message"]["conversation_id"]
        url = f"/api/v1/conversations/{conversation_id}/mail"

        got = (await alice.get(url)).json()
        n = got["number"]
        assert got["reference"] == f"[#{n}]"
        assert got["subject"] == "Colis 1042 jamais arrivé"
        assert got["reply_subject"] == f"Re: [#{n}] Colis 1042 jamais arrivé"
        assert (got["reply_to"], got["reply_to_name"]) == ("claire@client.example", "Claire Martin")
        assert got["mailbox_address"] == SUPPORT
        [received] = got["envelopes"]
        assert received["message_id"] == frame["message"]["id"]
        assert received["direction"] == "in" and received["state"] == "received"
        assert (received["from_name"], received["from_address"]) == (
            "Claire Martin",
            "claire@client.example",
        )
        assert received["to"] == [SUPPORT] and received["cc"] == ["paul@client.example"]
        sent_at = email.utils.parsedate_to_datetime(email.message_from_bytes(raw)["Date"])
        assert received["date"].replace("Z", "+00:00")[:19] == sent_at.isoformat()[:19]

        await eventually(held_by(alice, conversation_id), 10)
        r = await alice.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"client_id": "a1", "body": "Il part demain."},
        )
        assert r.status_code == 201, r.text
        answer_id = r.json()["id"]

        async def sent() -> dict[str, object]:
            envelopes = (await alice.get(url)).json()["envelopes"]
            [out] = [e for e in envelopes if e["message_id"] == answer_id]
            assert out["state"] == "sent", out
            return dict(out)

        out = await eventually(sent, 10)
        assert out["direction"] == "out" and out["to"] == ["claire@client.example"]
        assert out["from_address"] == SUPPORT and out["subject"] == got["reply_subject"]
        assert out["date"] is not None and out["error"] is None
        delivered = await sink.wait(lambda m: m.subject == got["reply_subject"])
        assert delivered.in_reply_to == parse_message(raw).message_id

        # A customer whose address the relay refuses for good: the answer says failed, and why.
        await send(
            listen,
            make_mail(sender="Rex <refused@client.example>", subject="Refund", text="Refund me"),
        )
        frame = await desk.wait_for(
            lambda f: f["type"] == "message" and "Refund me" in f["message"]["body"], 10
        )
        refused_id = frame["message"]["conversation_id"]
        await eventually(held_by(alice, refused_id), 10)
        r = await alice.post(
            f"/api/v1/conversations/{refused_id}/messages", {"client_id": "a2", "body": "Done."}
        )
        assert r.status_code == 201, r.text

        async def failed() -> dict[str, object]:
            got = (await alice.get(f"/api/v1/conversations/{refused_id}/mail")).json()
            out = got["envelopes"][-1]
            assert out["state"] == "failed", out
            return dict(out)

        out = await eventually(failed, 10)
        assert "mailbox unavailable" in str(out["error"])

        # Nobody learns of a conversation they may not read; a chat has no mail.
        olga = await login(server.base, "olga@test.example")
        r = await olga.get(url)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "conversation_not_found")
        visitor = await new_visitor(server.base)
        r = await visitor.get(url)
        assert r.status_code == 403
        chat = await visitor.post("/api/v1/conversations", {"client_id": "c1", "body": "Hi"})
        r = await alice.get(f"/api/v1/conversations/{chat.json()['id']}/mail")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "no_mail_thread")
        r = await alice.get(f"/api/v1/conversations/{'x' * 400}/mail")
        assert r.status_code == 404
        for who in (olga, visitor, alice):
            await who.close()
        await desk.close()
    finally:
        await server.stop()
        await sink.stop()
