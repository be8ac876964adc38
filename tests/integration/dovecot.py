"""A real IMAP server for the tests: Dovecot from Debian's packages, started by the test itself
as an unprivileged instance (its own directory, config, passwd-file user and ports), stopped
after. Skipped with the reason when Dovecot is missing, a failure under CI=true."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aioimaplib

from tests.conftest import free_port, need

USER, PASSWORD = "support", "imap-secret-1"


@dataclass
class Dovecot:
    host: str
    port: int  # plain IMAP
    tls_port: int  # IMAPS
    ca_file: Path  # the self-signed certificate of the IMAPS port
    root: Path

    async def client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=10)
        await client.wait_hello_from_server()
        response = await client.login(USER, PASSWORD)
        assert response.result == "OK", response
        return client

    async def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = await self.client()
        try:
            response = await client.append(raw, mailbox=folder)
            assert response.result == "OK", response
        finally:
            await client.logout()

    async def unseen(self, folder: str = "INBOX") -> list[int]:
        client = await self.client()
        try:
            assert (await client.select(folder)).result == "OK"
            response = await client.search("UNSEEN", charset=None)
            return [int(n) for n in bytes(response.lines[0]).split() if n.isdigit()]
        finally:
            await client.logout()

    async def command(self, name: str, *args: str) -> aioimaplib.Response:
        client = await self.client()
        try:
            return await client.protocol.simple_command(name, *args)
        finally:
            await client.logout()


def _binary() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _certificate(root: Path) -> tuple[Path, Path]:
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _config(root: Path, user: str, group: str, port: int, tls_port: int) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
instance_name = relais-test-{port}
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
"""


def _greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            return s.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _launch(binary: str) -> tuple[Path, int, int, subprocess.Popen[bytes]]:
    # Dovecot's login processes refuse to run as root: as root, the instance runs as nobody.
    root_user = os.geteuid() == 0
    account = pwd.getpwnam("nobody") if root_user else pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(account.pw_gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="relais-dovecot-"))
    root.chmod(0o755)
    port, tls_port = free_port(), free_port()
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    _certificate(root)
    (root / "passwd").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{account.pw_uid}:{account.pw_gid}::{root}/home/{USER}::\n"
    )
    (root / "dovecot.conf").write_text(_config(root, account.pw_name, group, port, tls_port))
    if root_user:
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        user=account.pw_uid if root_user else None,
        group=account.pw_gid if root_user else None,
    )
    return root, port, tls_port, proc


@asynccontextmanager
async def dovecot() -> AsyncIterator[Dovecot]:
    binary = _binary()
    need(binary is not None, "Dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    root, port, tls_port, proc = await asyncio.to_thread(_launch, binary)
    try:
        deadline = time.monotonic() + 15
        while not await asyncio.to_thread(_greets, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = root / "dovecot.log"
                raise RuntimeError(log.read_text() if log.exists() else "dovecot did not start")
            await asyncio.sleep(0.1)
        yield Dovecot("127.0.0.1", port, tls_port, root / "cert.pem", root)
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)
