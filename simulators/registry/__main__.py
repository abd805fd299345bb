"""`python -m simulators.registry [--host H] [--port P] [--db PATH] [--load FILE]`."""

from __future__ import annotations

import argparse

import uvicorn

from config import VAR, get_settings
from logs import configure_logging
from simulators.registry.app import create_app


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m simulators.registry", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=settings.registry_port)
    parser.add_argument("--db", default=str(VAR / "registry.db"), help="SQLite file (created if missing)")
    parser.add_argument("--load", metavar="FILE", help="DESIGN §6 file whose citizens are upserted at start")
    parser.add_argument("--api-key", default=settings.registry_api_key)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(args.db, api_key=args.api_key, load=args.load)
    configure_logging("registry-simulator")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=None)


if __name__ == "__main__":
    main()
