"""SMS gateway simulator: takes our SMS over HTTP as a brand-name SMS gateway does (issue 22).

Start it with (defaults from config.Settings: port 8103, SMS_GATEWAY_API_KEY, db var/sms.db):

    python -m simulators.sms

Endpoints:

    GET  /health
    POST /api/v1/sms             {to: "84xxxxxxxxx", text, reference}: 202 {id, encoding, segments};
                                 the same reference again answers the same message (no second SMS);
                                 401 without the API key; 422 a number or text it cannot send
    GET  /api/v1/messages?to=…   what was "sent" (for tests and for reading them under `make run`)
    GET|PUT /admin/knobs         down (503 to every send), fail_rate (0–1: that share answers 503),
                                 unauthorized (401 to every send: a rotated key), delay_ms

It keeps what it sends in its SQLite file (a restart keeps them), and nothing else.
"""

from simulators.sms.app import Knobs, create_app

__all__ = ["Knobs", "create_app"]
