"""aiosmtpd's SMTP protocol over asyncio, storing into a Maildir (see `simulators/mailbox/__init__.py`)."""

from __future__ import annotations

import asyncio
import logging
import mailbox
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP


class MaildirHandler:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.box = mailbox.Maildir(self.folder, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content
        self.box.add(content if isinstance(content, bytes) else str(content).encode())
        return "250 Message accepted for delivery"


def read_mail(folder: str | Path) -> list[EmailMessage]:
    """Every message kept in the folder, oldest first, parsed (headers decoded, UTF-8 bodies)."""
    path = Path(folder)
    files = sorted(
        (f for sub in ("new", "cur") if (path / sub).is_dir() for f in (path / sub).iterdir()),
        key=lambda f: (f.stat().st_mtime_ns, f.name),
    )
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(f.read_bytes()) for f in files]  # type: ignore[misc]


async def serve(host: str, port: int, folder: str | Path, stop: asyncio.Event) -> None:
    # aiosmtpd logs every envelope (sender, recipients) at INFO: addresses are personal data
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    handler = MaildirHandler(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="bhyt-mailbox", enable_SMTPUTF8=True), host=host, port=port
    )
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
