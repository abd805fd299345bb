"""Texts of the notices sent to the declarant. Amounts and dates only: no personal data."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.application import VIETNAM_TZ
from domain.messages import RENEWAL_SUCCESS
from domain.models import PaymentInstructions, Quote


def _vn_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def payment_due(quote: Quote, payment: PaymentInstructions) -> str:
    return (
        f"Số tiền phải đóng để gia hạn {len(quote.lines)} thẻ BHYT hộ gia đình: {_money(quote.total)} đồng "
        f"({quote.total_in_words}). Mã thanh toán: {payment.txn_ref}. "
        f"Hạn nộp: {_vn_time(payment.deadline)}."
    )


def expired(payment: PaymentInstructions) -> str:
    return (
        f"Hồ sơ gia hạn thẻ BHYT (mã thanh toán {payment.txn_ref}) đã hết hạn nộp tiền lúc "
        f"{_vn_time(payment.deadline)} và đã bị hủy. Vui lòng kê khai lại nếu vẫn muốn gia hạn."
    )


CANCELLED = "Hồ sơ gia hạn thẻ BHYT hộ gia đình đã được hủy theo yêu cầu."
PAYMENT_REVIEW = (
    "Khoản thanh toán nhận được chưa khớp với hồ sơ; cơ quan BHXH sẽ kiểm tra và liên hệ lại. "
    "Vui lòng không thanh toán lại."
)


def usable_from(valid_from: date, old_valid_to: date | None, notice_date: date) -> date | None:
    """The day a renewed card can first be used at a hospital, when that is after the notice.

    None when the member is covered from the notice on: the old card runs into the new period
    (renewed before expiry), or the new period has already started (lapse under 90 days). A lapse
    of 90 days or more, a first participation, or a lapsed card of another group joining starts
    30 days after payment (domain.validity): the prescribed words «kể từ ngày nhận được thông báo
    này» alone would send that member to hospital too early (issue 22 finding 2)."""
    continuous = old_valid_to is not None and old_valid_to >= valid_from - timedelta(days=1)
    if continuous or valid_from <= notice_date:
        return None
    return valid_from


def renewal_success(usable: date | None) -> str:
    """The procedure's words verbatim, and the date the card works from when it is later."""
    if usable is None:
        return RENEWAL_SUCCESS
    return f"{RENEWAL_SUCCESS}. Thẻ có giá trị sử dụng từ ngày {usable:%d/%m/%Y}."
