"""`python -m api`: serve the HTTP API with uvicorn on BHYT_API_HOST:BHYT_API_PORT."""

import uvicorn

from api.app import create_app
from config import get_settings
from logs import configure_logging
from production import refuse_unsafe


def main() -> None:
    settings = get_settings()
    configure_logging("api")
    refuse_unsafe(settings, "api")
    uvicorn.run(
        create_app(settings),
        host=settings.bhyt_api_host,
        port=settings.bhyt_api_port,
        log_level="info",
        proxy_headers=False,  # the app's own ProxyHeadersMiddleware, trusting BHYT_TRUSTED_PROXIES only
        log_config=None,  # logs.configure_logging's handlers: JSON lines, or the console form
    )


if __name__ == "__main__":
    main()
