"""Texts of the notices sent to the declarant. Amounts and dates only: no personal data."""

from __future__ import annotations

from datetime import datetime

from domain.application import VIETNAM_TZ
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
