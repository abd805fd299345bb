"""`python -m simulators.sms [--host H] [--port P] [--db PATH]`."""

from __future__ import annotations

import argparse

import uvicorn

from config import VAR, get_settings
from logs import configure_logging
from simulators.sms.app import create_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m simulators.sms", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.sms_gateway_port)
    parser.add_argument("--db", default=str(VAR / "sms.db"), help="SQLite file (created if missing)")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(args.db, api_key=settings.sms_gateway_api_key)
    configure_logging("sms-simulator")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=None)


if __name__ == "__main__":
    main()
