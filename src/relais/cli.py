"""The ``relais`` command: serve, demo, migrate, mail, user."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import secrets
import sys
from pathlib import Path

from relais.config import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="relais", description="Relais contact centre")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API, the desk and the widget")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)

    demo = sub.add_parser("demo", help="create demo data and serve (SQLite, no set-up)")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--no-serve", action="store_true", help="create the demo data only")

    sub.add_parser("migrate", help="bring the database schema up to date")

    staff = sub.add_parser("staffing", help="agents needed for a service level (Erlang C / A)")
    staff.add_argument("--calls-per-hour", type=float, required=True)
    staff.add_argument("--aht", type=float, required=True, help="mean handling time, seconds")
    staff.add_argument("--target", type=float, default=20.0, help="answered within, seconds")
    staff.add_argument("--service-level", type=float, default=0.8, help="goal, e.g. 0.8")
    staff.add_argument("--patience", type=float, help="mean patience, seconds (Erlang A)")
    staff.add_argument("--max-occupancy", type=float, help="e.g. 0.85 (default: no limit)")

    sim = sub.add_parser("simulate", help="run the ACD engine in virtual time (no database)")
    sim.add_argument("--calls-per-hour", type=float, required=True)
    sim.add_argument("--aht", type=float, required=True, help="mean handling time, seconds")
    sim.add_argument("--agents", type=int, required=True)
    sim.add_argument("--target", type=float, default=20.0, help="service level target, seconds")
    sim.add_argument("--patience", type=float, help="mean patience, seconds (abandonment)")
    sim.add_argument("--handling", choices=["exponential", "constant"], default="exponential")
    sim.add_argument("--arrivals", type=int, default=100_000)
    sim.add_argument("--seed", type=int, default=1)

    mail = sub.add_parser("mail", help="the e-mail channel")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True)
    mail_import = mail_sub.add_parser("import", help="store mail from .eml or mbox files")
    mail_import.add_argument("files", nargs="+", metavar="FILE", help="a .eml or an mbox file")
    mail_import.add_argument("--mailbox", help="the mailbox it arrived at (default: the first)")

    user = sub.add_parser("user", help="manage agents")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add an agent")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", default="agent", choices=["agent", "supervisor", "admin"])
    add.add_argument("--team", action="append", default=[], help="team name (repeatable)")
    add.add_argument("--max-chats", type=int, default=3)
    add.add_argument(
        "--password", help="password (default: the RELAIS_PASSWORD variable, else asked)"
    )

    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "migrate":
        from relais.migrate import upgrade

        upgrade(settings.database_url)
        print("database schema is up to date")
    elif args.command == "staffing":
        from relais.routing.staffing_cli import run_staffing

        run_staffing(args)
    elif args.command == "simulate":
        from relais.routing.simulate_cli import run_simulation

        run_simulation(args)
    elif args.command == "mail" and args.mail_command == "import":
        from relais.channels.email import import_cli

        import_cli.main(settings, args)
    elif args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "demo":
        _demo(settings, args.host, args.port, serve=not args.no_serve)
    elif args.command == "user" and args.user_command == "add":
        password = args.password or os.environ.get("RELAIS_PASSWORD") or getpass.getpass()
        asyncio.run(_add_user(settings, args, password))


def _serve(settings: Settings, host: str | None, port: int | None) -> None:
    import uvicorn

    from relais.app import create_app
    from relais.core.gc_tuning import LoopCollector

    uvicorn.run(
        # Short collections between callbacks with thousands of connections
        # (core/gc_tuning.py); the server's process only: tests run apps in their own process,
        # whose collector it would change for them all.
        create_app(settings, collector=LoopCollector()),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        ws_max_size=settings.chat.max_frame_bytes,
        # permessage-deflate keeps two zlib streams per connection (hundreds of KiB) to save a
        # few bytes on short chat frames: not worth it with thousands of sockets.
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        timeout_graceful_shutdown=5,
        access_log=False,
    )


async def _add_user(settings: Settings, args: argparse.Namespace, password: str) -> None:
    from relais.core.bus import MemoryBus
    from relais.core.db import Database
    from relais.core.errors import AppError
    from relais.identity.service import do_create_agent

    db = Database(settings.database_url, MemoryBus())
    try:
        async with db.transaction() as uow:
            agent = await do_create_agent(
                uow.session,
                email=args.email,
                name=args.name,
                password=password,
                role=args.role,
                teams=args.team or [settings.default_team],
                max_chats=args.max_chats,
            )
        print(f"added {agent.role} {agent.email} ({agent.id})")
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from exc
    finally:
        await db.dispose()


def _demo(settings: Settings, host: str | None, port: int | None, *, serve: bool) -> None:
    from relais.demo import DEMO_IDENTITY_SECRET, DEMO_PASSWORD, seed
    from relais.migrate import upgrade
    from relais.web.pages import DEMO_KEY_ID

    if "RELAIS_SECRET_KEY" not in os.environ:
        # Keep visitors' tokens valid across demo restarts.
        key_file = Path("var/secret_key")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(32))
        settings.secret_key = key_file.read_text().strip()
    settings.widget.identity_keys.setdefault(DEMO_KEY_ID, DEMO_IDENTITY_SECRET)
    upgrade(settings.database_url)
    agents = asyncio.run(seed(settings))
    base = f"http://{host or settings.host}:{port or settings.port}"
    print(
        f"\nRelais demo\n  shop (visitor):   {base}/demo/shop\n"
        f"  shop, signed in:  {base}/demo/shop?customer=claire-martin\n"
        f"  agent desk:       {base}/desk\n  API:              {base}/api/v1/docs\n\n"
        f"  logins (password {DEMO_PASSWORD}):"
    )
    for email, role in agents:
        print(f"    {email:<28} {role}")
    print()
    if serve:
        _serve(settings, host, port)
