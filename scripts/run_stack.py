"""`make run`: the whole system on this machine, with the demo data, until Ctrl-C.

Everything is configured from the DESIGN §5 names (environment or `.env`); data lives under
`var/`, so stopping and starting again keeps every application, card and receipt.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import VAR, get_settings  # noqa: E402
from scripts.stack import DEMO_DATA, Stack, StackError, tail  # noqa: E402


def _display_url(url: str) -> str:
    """The database URL without its password: the banner ends up in terminals and screenshots."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a banner must not fail the run
        return url


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def banner(stack: Stack) -> str:
    urls, env = stack.urls, stack.env
    rows = [
        ("HTTP API", f"{urls.api}/api/v1"),
        ("OpenAPI docs", urls.docs),
        ("API bearer token", f"{env['BHYT_API_TOKEN']}   (BHYT_API_TOKEN)"),
        ("Temporal UI", f"{urls.temporal_ui}   (payloads decoded by the codec server)"),
        ("Codec server", f"{urls.codec}   operator login at {urls.codec}/login"),
        ("Metrics", f"{urls.api}/metrics (API, business; operator token)   {urls.worker_metrics} (worker, SDK)"),
        ("Temporal gRPC", f"{urls.temporal}   namespace {env['TEMPORAL_NAMESPACE']}, "
                          f"task queue {env['TEMPORAL_TASK_QUEUE']}"),
        ("Reminder schedule", f"household-reminders, daily at {int(env['BHYT_REMINDER_HOUR']):02d}:00 "
                              "Vietnam time   (Temporal UI → Schedules; run now: starter.py remind)"),
        ("Registry simulator", urls.registry),
        ("Bank simulator", urls.bank),
        ("SMS simulator", f"{urls.sms}   (sent SMS: {urls.sms}/api/v1/messages)"),
        ("Email (SMTP)", f"{urls.smtp}   " + (f"(mail kept in {_relative(stack.mail_dir)}/new)"
                                              if stack.local_mailbox else "(NOTIFY_SMTP_URL)")),
        ("BHXH database", _display_url(env["DATABASE_URL"])),
        ("Temporal history", _relative(stack.var_dir / "temporal.db")),
        ("Logs", _relative(stack.log_dir) + "/<component>.log"),
    ]  # fmt: skip
    width = max(len(k) for k, _ in rows)
    lines = ["", "BHYT household renewal: the stack is up", ""]
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    lines += [
        "",
        "Next:",
        "  .venv/bin/python starter.py demo     a household renewal end to end (or: make demo)",
        "  make test                            the whole test suite",
        "",
        "Ctrl-C stops everything; the data stays under var/ for the next `make run`.",
        "",
    ]
    return "\n".join(lines)


class _Stop(Exception):
    """SIGTERM turned into an exception, so that it unwinds through the same path as Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def main() -> int:
    settings = get_settings()
    console_logs = {"BHYT_LOG_FORMAT": os.environ.get("BHYT_LOG_FORMAT", "console")}  # readable var/logs
    stack = Stack.from_settings(
        settings, VAR, progress=lambda msg: print(msg, flush=True), extra_env=console_logs
    )
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Started from a script with `&`, Python inherits SIGINT ignored; Ctrl-C/kill -INT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"Starting the stack (data under {_relative(stack.var_dir)}/) ...", flush=True)
    try:
        stack.start(seed=DEMO_DATA)
        print(banner(stack), flush=True)
        while True:
            dead = stack.exited()
            if dead:
                for name, code in dead:
                    print(f"\n{name} exited with code {code}; last lines of {stack.log_path(name)}:\n"
                          f"{tail(stack.log_path(name))}", file=sys.stderr)  # fmt: skip
                print("Stopping the rest.", file=sys.stderr)
                return 1
            time.sleep(1)
    except (KeyboardInterrupt, _Stop):
        print("\nStopping ...", flush=True)
        return 0
    except StackError as exc:
        print(f"\nThe stack did not start. {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C while we stop must not leave half the children running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
