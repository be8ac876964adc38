"""Security headers on every HTTP response (pure ASGI, so websockets pass untouched)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
# The desk and supervisor pages: only our own scripts, and never framed by another site.
_APP_PAGE = [
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'self'; object-src 'none'",
    ),
]


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, app_paths: tuple[str, ...] = ("/desk", "/supervisor")
    ) -> None:
        self.app = app
        self.app_paths = app_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_COMMON)
        if scope["path"].startswith(self.app_paths):
            extra += _APP_PAGE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in extra if h[0] not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
