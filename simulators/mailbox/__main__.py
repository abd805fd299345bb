"""`python -m simulators.mailbox [--host H] [--port P] [--dir PATH] [--list]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from config import VAR, get_settings
from logs import configure_logging
from simulators.mailbox.server import read_mail, serve

log = logging.getLogger("simulators.mailbox")


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m simulators.mailbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.smtp_port)
    parser.add_argument("--dir", default=str(VAR / "mail"), help="Maildir folder (created if missing)")
    parser.add_argument("--list", action="store_true", help="print the mail kept, then exit")
    args = parser.parse_args(argv)
    if args.list:
        for mail in read_mail(args.dir):
            print(f"To: {mail['To']}\nSubject: {mail['Subject']}\n\n{mail.get_content()}\n{'-' * 60}")
        return
    configure_logging("mailbox")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("SMTP on %s:%d, mail kept in %s", args.host, args.port, args.dir)
        await serve(args.host, args.port, args.dir, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
