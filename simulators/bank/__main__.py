"""`python -m simulators.bank [--host H] [--port P] [--db PATH] [--retry-base-ms N] [--max-attempts N]`."""

from __future__ import annotations

import argparse

import uvicorn

from config import VAR, get_settings
from logs import configure_logging
from simulators.bank.app import create_app
from simulators.bank.knobs import Knobs


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    defaults = Knobs()
    parser = argparse.ArgumentParser(prog="python -m simulators.bank", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.bank_port)
    parser.add_argument("--db", default=str(VAR / "bank.db"), help="SQLite file (created if missing)")
    parser.add_argument("--retry-base-ms", type=int, default=defaults.retry_base_ms)
    parser.add_argument("--max-attempts", type=int, default=defaults.max_attempts)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    knobs = Knobs(retry_base_ms=args.retry_base_ms, max_attempts=args.max_attempts)
    app = create_app(args.db, secret=settings.bhyt_ipn_secret, tmn_code=settings.bhyt_tmn_code, knobs=knobs)
    configure_logging("bank-simulator")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=None)


if __name__ == "__main__":
    main()
