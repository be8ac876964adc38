"""The bare relay's side of the load (bench/bare_relay.py): the same conversations, grouped
on agents the same way, with no hello, no acknowledgement and no storage."""

from __future__ import annotations

from urllib.parse import urlencode

from _wspeer import Context, Frame, Peer


class BareVisitor(Peer):
    acked = False  # the relay acknowledges nothing: there is nothing to resend

    def __init__(self, ctx: Context, base: str, pair: int, agent: int) -> None:
        super().__init__(ctx)
        self._uri = f"{base}/?{urlencode({'role': 'visitor', 'pair': pair, 'agent': agent})}"
        self.pair = pair

    def uri(self) -> str:
        return self._uri

    def send_message(self) -> None:
        cid = self.ctx.client_id()
        frame = {"type": "send", "pair": self.pair, "client_id": cid, "body": self.ctx.body()}
        self.send(cid, frame, "v2a")

    def on_frame(self, frame: Frame, now: float) -> None:
        self.ctx.ledger.received(frame["client_id"], None, now)


class BareAgent(Peer):
    acked = False

    def __init__(self, ctx: Context, base: str, agent: int) -> None:
        super().__init__(ctx)
        self._uri = f"{base}/?{urlencode({'role': 'agent', 'agent': agent})}"

    def uri(self) -> str:
        return self._uri

    def on_frame(self, frame: Frame, now: float) -> None:
        self.ctx.ledger.received(frame["client_id"], None, now)
        if self.ctx.rng.random() < self.ctx.reply_ratio:
            cid = self.ctx.client_id()
            reply = {"to": frame["pair"], "client_id": cid, "body": self.ctx.body()}
            self.send(cid, reply, "a2v")
