"""Every text the declarant or a participant reads: rejections, notices, reminders.

Two are prescribed by the procedure (QĐ 1187/QĐ-BHXH) and kept verbatim (DESIGN §1):
`RESIDENCE_MISMATCH` and `RENEWAL_SUCCESS`; the others have no prescribed wording. The texts
go to the portal, email and the Temporal UI, so they name the problem, never the person (no
name, number or date of birth); amounts, dates and payment codes only.

This module imports nothing from the domain (`domain.models` imports it: a renewed member's
default message is the success text), so its builders take plain values; `domain.notices` reads
them from the models. Per-reason eligibility texts stay beside their rule
(`domain.eligibility.REASON_MESSAGES`, keyed by the rule's reasons). The SMS versions
(unaccented, one GSM-7 message) are written in `domain.sms`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

# The procedure's words (QĐ 1187/QĐ-BHXH), verbatim

RESIDENCE_MISMATCH = (
    "Các thành viên kê khai không cùng địa chỉ thường trú hoặc không cùng địa chỉ tạm trú trong "
    "Cơ sở dữ liệu quốc gia về dân cư, đề nghị liên hệ trực tiếp với cơ quan công an nơi cư trú để "
    "được hướng dẫn cập nhật, điều chỉnh thông tin nơi cư trú của các thành viên"
)

RENEWAL_SUCCESS = (
    "Người tham gia tiếp tục sử dụng thẻ BHYT (đã cấp) đi khám chữa bệnh kể từ ngày nhận được "
    "thông báo này"
)

# Step 1 — kê khai

DECLARATION_NOT_RECORDED = "Hệ thống tạm thời gián đoạn, chưa ghi nhận được tờ khai; đề nghị kê khai lại sau"
"""Rejection when the BHXH database stays unavailable past step 1's retry window: try again
later (the declaration itself was not found invalid)."""


def declaration_invalid(cause: str) -> str:
    """Rejection of a declaration step 1 finds invalid; `cause` names the fields, not their values."""
    return f"Tờ khai không hợp lệ ({cause})"


# Step 2 — xác thực

NO_ELIGIBLE_MEMBER = "Không có thành viên nào đủ điều kiện gia hạn thẻ BHYT theo hộ gia đình"
"""Rejection when step 2b leaves nobody to renew (the procedure has no prescribed wording)."""
VERIFICATION_UNAVAILABLE = (
    "Hệ thống chưa xác thực được thông tin của hộ gia đình do gián đoạn kết nối với cơ sở dữ liệu; "
    "đề nghị kê khai lại sau"
)
"""Rejection when an outside system stays unavailable past the retry window of step 2."""


def household_in_progress(application_id: str) -> str:
    """Rejection of a second declaration while the household's first is still open; the id is
    not personal data and lets the portal send the declarant to the open application."""
    return (
        "Hộ gia đình đang có một hồ sơ gia hạn chưa hoàn tất (mã hồ sơ "
        f"{application_id}); đề nghị hoàn tất hoặc hủy hồ sơ đó trước khi kê khai lại"
    )


HEAD_NOT_IN_REGISTRY = (
    "Không tìm thấy chủ hộ trong Cơ sở dữ liệu quốc gia về dân cư theo số định danh cá nhân kê khai "
    "(head.personal_id)"
)

FIELD_LABELS = {"full_name": "họ tên", "date_of_birth": "ngày sinh", "gender": "giới tính"}
"""How a mismatched field is named to the declarant (never with its value)."""

CARD_RECORD = "thông tin thẻ BHYT trong cơ sở dữ liệu BHXH"
"""What a member's declared identity is compared with (step 2b)."""


def mismatch_message(fields: Sequence[str], record: str) -> str:
    labels = ", ".join(FIELD_LABELS[f] for f in fields)
    return f"{labels.capitalize()} kê khai không khớp với {record}"


def head_mismatch(fields: Sequence[str]) -> str:
    """The head's fields that differ from the registry, named (never their values)."""
    named = ", ".join(f"{FIELD_LABELS[f]} (head.{f})" for f in fields)
    return f"Thông tin chủ hộ kê khai không khớp với Cơ sở dữ liệu quốc gia về dân cư: {named}"


def duplicate_rejection(pairs: Sequence[tuple[int, int]]) -> str:
    named = "; ".join(f"members[{a}] và members[{b}]" for a, b in pairs)
    return f"Kê khai trùng người tham gia: {named} là cùng một người; mỗi người chỉ được kê khai một lần"


# Step 3 — nộp tiền, and the application's end unpaid


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _time(local: datetime) -> str:
    """A moment already in Vietnam time (`domain.notices` converts it)."""
    return local.strftime("%H:%M ngày %d/%m/%Y")


def payment_due(*, cards: int, total: int, total_in_words: str, txn_ref: str, deadline: datetime) -> str:
    """`deadline` in Vietnam time."""
    return (
        f"Số tiền phải đóng để gia hạn {cards} thẻ BHYT hộ gia đình: {_money(total)} đồng "
        f"({total_in_words}). Mã thanh toán: {txn_ref}. "
        f"Hạn nộp: {_time(deadline)}."
    )


def expired(*, txn_ref: str, deadline: datetime) -> str:
    """`deadline` in Vietnam time."""
    return (
        f"Hồ sơ gia hạn thẻ BHYT (mã thanh toán {txn_ref}) đã hết hạn nộp tiền lúc "
        f"{_time(deadline)} và đã bị hủy. Vui lòng kê khai lại nếu vẫn muốn gia hạn."
    )


CANCELLED = "Hồ sơ gia hạn thẻ BHYT hộ gia đình đã được hủy theo yêu cầu."
PAYMENT_REVIEW = (
    "Khoản thanh toán nhận được chưa khớp với hồ sơ; cơ quan BHXH sẽ kiểm tra và liên hệ lại. "
    "Vui lòng không thanh toán lại."
)

# Step 5 — trả kết quả


def renewal_success(usable: date | None) -> str:
    """The procedure's words verbatim, and the date the card works from when it is later
    (`domain.notices.usable_from`)."""
    if usable is None:
        return RENEWAL_SUCCESS
    return f"{RENEWAL_SUCCESS}. Thẻ có giá trị sử dụng từ ngày {usable:%d/%m/%Y}."


# Reminders before the household's cards lapse (domain.reminders)


def reminder_message(expires_on: date, today: date, link: str) -> str:
    """Dates and the link only (no name: the text goes through outside channels)."""
    days = (expires_on - today).days
    when = "hôm nay" if days == 0 else f"sau {days} ngày"
    return (
        f"Thẻ BHYT hộ gia đình của gia đình bạn hết hạn sử dụng vào ngày {expires_on:%d/%m/%Y} "
        f"({when}). Để được sử dụng thẻ liên tục, vui lòng gia hạn trước ngày này; "
        f"tờ khai đã điền sẵn theo lần kê khai trước: {link}"
    )
