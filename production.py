"""With BHYT_ENV=production, a process refuses to start on the documented development values.

Every secret of config.py has a local default so that `make run` works on a fresh clone; those
defaults are public (they are in the README). A production process that silently fell back to
one would accept forged bank callbacks or portal calls, or encrypt households' data with a
published key. So API, worker, codec server and starter call `refuse_unsafe` first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from config import DEV_PAYLOAD_KEY, Settings

DEV_VALUES = (
    "bhyt_api_token",
    "bhyt_ipn_secret",
    "bhyt_tmn_code",
    "registry_api_key",
    "notify_webhook_secret",
)
"""Settings whose documented default must not reach production."""


class UnsafeConfiguration(SystemExit):
    """Raised at start-up; the message lists every problem by variable name, never a value."""


def problems(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """What a production process must not run with (empty outside production)."""
    from adapters.temporal_client import connect_config, secured

    if not settings.production:
        return []
    found = []
    for name in DEV_VALUES:
        if getattr(settings, name) == Settings.model_fields[name].default:
            found.append(f"{name.upper()} is the development default")
    found += _payload_key_problems(settings)
    url_problem = public_url_problem(settings.bhyt_public_url)
    if url_problem:
        found.append(url_problem)
    if settings.bhyt_trusted_proxies.strip() == "*":
        found.append("BHYT_TRUSTED_PROXIES is `*`: name the reverse proxies (anyone could set their address)")
    if settings.bhyt_receipt_template == Settings.model_fields["bhyt_receipt_template"].default:
        found.append("BHYT_RECEIPT_TEMPLATE is the local placeholder: set the registered ký hiệu mẫu")
    default_tokens = Settings.model_fields["bhyt_operator_tokens"].default
    dev_tokens = {t.get_secret_value() for t in default_tokens.values()}
    if not settings.bhyt_operator_tokens:
        found.append("BHYT_OPERATOR_TOKENS is empty")
    if any(t.get_secret_value() in dev_tokens for t in settings.bhyt_operator_tokens.values()):
        found.append("BHYT_OPERATOR_TOKENS holds the development token")
    if any(len(t.get_secret_value()) < 16 for t in settings.bhyt_operator_tokens.values()):
        found.append("BHYT_OPERATOR_TOKENS: every token must have at least 16 characters")
    if settings.bhyt_receipt_self_signed:
        found.append("BHYT_RECEIPT_SELF_SIGNED is true: receipts must be signed with the insurer's certificate")
    if settings.bhyt_receipt_issuer_tax_code == Settings.model_fields["bhyt_receipt_issuer_tax_code"].default:
        found.append("BHYT_RECEIPT_ISSUER_TAX_CODE is the local placeholder")
    if settings.database_url.startswith("sqlite"):
        found.append("DATABASE_URL is SQLite (the local default); production runs on PostgreSQL")
    if not secured(connect_config(settings, environ)) and not settings.temporal_plaintext_private_network:
        found.append(
            "Temporal without TLS or API key: set TEMPORAL_TLS*/TEMPORAL_API_KEY (or a TEMPORAL_PROFILE),"
            " or TEMPORAL_PLAINTEXT_PRIVATE_NETWORK=true if its frontend is on a private network only"
        )
    return found


def _payload_key_problems(settings: Settings) -> list[str]:
    """Keys compared as the bytes they decode to: the dev key with `=` padding, or in standard
    base64, is the same key under another spelling."""
    from adapters.temporal_payloads import parse_key

    dev_key = parse_key(DEV_PAYLOAD_KEY)
    found = []
    for ring_key in settings.bhyt_payload_keys:
        try:
            key = parse_key(ring_key.key.get_secret_value())
        except ValueError:
            found.append(f"BHYT_PAYLOAD_KEYS: key {ring_key.id!r} is not base64")
            continue
        if key == dev_key:
            found.append("BHYT_PAYLOAD_KEYS holds the development payload key")
    return found


def public_url_problem(url: str) -> str | None:
    """The bank posts its IPN to this address and every receipt's link and QR code print it: an
    internal name (`http://api:8000`) means no IPN ever arrives and every receipt links nowhere."""
    why = "BHYT_PUBLIC_URL must be the https:// address the bank and citizens reach (IPN, receipt links)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return why
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme != "https" or not host:
        return why
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if "." not in host:
        return f"{why}; a single-label host name is internal"
    return None


def refuse_unsafe(settings: Settings, component: str) -> None:
    found = problems(settings)
    if found:
        listing = "\n  - ".join(found)
        raise UnsafeConfiguration(f"{component}: refusing to start with BHYT_ENV=production:\n  - {listing}")


def operator_token_problem(settings: Settings, token: str | None) -> str | None:
    """Why `starter.py` may not act as an operator with this token in production (or None)."""
    if not settings.production:
        return None
    if not token:
        return "an operator command needs BHYT_OPERATOR_TOKEN (or --operator-token) in production"
    default_tokens = Settings.model_fields["bhyt_operator_tokens"].default
    if token in {t.get_secret_value() for t in default_tokens.values()}:
        return "BHYT_OPERATOR_TOKEN is the development operator's token"
    return None
