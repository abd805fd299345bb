"""`python -m api`: serve the HTTP API with uvicorn on BHYT_API_HOST:BHYT_API_PORT."""

import uvicorn

from api.app import create_app
from config import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings), host=settings.bhyt_api_host, port=settings.bhyt_api_port, log_level="info"
    )


if __name__ == "__main__":
    main()
