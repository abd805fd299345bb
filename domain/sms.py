"""SMS texts of the notices: unaccented Vietnamese in one GSM-7 message of at most 160 characters.

Why unaccented GSM-7 and not UCS-2 with diacritics: an SMS in UCS-2 holds 70 characters (67 per
part when concatenated); the prescribed success text alone is 103 characters, so every notice
would be two or three parts, billed each, and reassembled (or not) by the handset. Vietnamese
brand-name SMS is sent unaccented as a rule (carriers' brand-name templates are registered
without diacritics, and unaccented text reads everywhere), in one 160-character GSM-7 message.
The full Vietnamese text, with its diacritics, goes by email and to the portal.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from domain.application import VIETNAM_TZ

SMS_LIMIT = 160
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (one septet each; the extension table is not used)."""


def unaccented(text: str) -> str:
    """Vietnamese without diacritics (đ → d), and nothing outside the GSM-7 basic alphabet."""
    base = "".join(
        c
        for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        if unicodedata.category(c) != "Mn"
    )
    return "".join(c if c in GSM7_BASIC else " " for c in unicodedata.normalize("NFC", base))


def is_single_gsm7(text: str) -> bool:
    return len(text) <= SMS_LIMIT and all(c in GSM7_BASIC for c in text)


def _fit(text: str) -> str:
    """Cut at a word before the limit (a text written here never needs it; a future kind might)."""
    if len(text) <= SMS_LIMIT:
        return text
    return text[: SMS_LIMIT - 3].rsplit(" ", 1)[0] + "..."


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _day(iso: Any) -> str:
    return date.fromisoformat(str(iso)).strftime("%d/%m/%Y")


def _moment(iso: Any) -> str:
    return datetime.fromisoformat(str(iso)).astimezone(VIETNAM_TZ).strftime("%H:%M %d/%m/%Y")


GENERIC = {
    "rejected": "Ho so gia han the BHYT ho gia dinh khong duoc chap nhan. Ly do: xem thong bao tren "
    "Cong Dich vu cong hoac email.",
    "expired": "Ho so gia han the BHYT ho gia dinh da het han nop tien va da bi huy. Vui long ke khai "
    "lai neu van muon gia han.",
}


def sms_text(kind: str, recipient: str, message: str, payload: Mapping[str, Any]) -> str:
    """The one SMS of a notice, from its kind and payload (the same facts as its message)."""
    if kind == "payment_due" and {"txn_ref", "deadline", "amount"} <= payload.keys():
        cards = payload.get("cards")
        what = f"{cards} the BHYT" if cards else "the BHYT"
        text = (
            f"BHXH: So tien phai nop de gia han {what}: {_money(int(payload['amount']))} dong. "
            f"Ma thanh toan {payload['txn_ref']}. Han nop {_moment(payload['deadline'])}."
        )
    elif kind == "renewed" and "valid_to" in payload:
        renewed = f"BHXH: The BHYT {recipient} da gia han den {_day(payload['valid_to'])}."
        if payload.get("usable_from"):
            text = f"{renewed} The co gia tri su dung tu ngay {_day(payload['usable_from'])}."
        else:
            text = f"{renewed} {unaccented(message)}"
            if len(text) > SMS_LIMIT:  # the seed's words without the card's header still fit
                text = unaccented(message)
    elif kind.startswith("reminder:") and "expires_on" in payload:
        lapse = f"BHXH: The BHYT ho gia dinh het han ngay {_day(payload['expires_on'])}."
        text = f"{lapse} Gia han truoc ngay nay: {payload.get('link', '')}"
        if not payload.get("link") or len(text) > SMS_LIMIT:  # a link cut in two opens nothing
            text = f"{lapse} Gia han truoc ngay nay tren Cong Dich vu cong BHXH hoac VssID."
    else:
        text = "BHXH: " + unaccented(message)
        if len(text) > SMS_LIMIT and kind in GENERIC:
            text = "BHXH: " + GENERIC[kind]
    return _fit(unaccented(text))
