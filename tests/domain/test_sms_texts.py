"""Every notice fits one GSM-7 SMS (160 characters, unaccented), with the facts it must carry."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain import messages
from domain.declarant import clean_email, clean_phone
from domain.messages import (
    NO_ELIGIBLE_MEMBER,
    RENEWAL_SUCCESS,
    RESIDENCE_MISMATCH,
    VERIFICATION_UNAVAILABLE,
    household_in_progress,
)
from domain.sms import is_single_gsm7, sms_text, unaccented

WORST_DUE = {
    "amount": 999_999_999,
    "cards": 20,
    "txn_ref": "BHYT" + "F" * 32,
    "deadline": datetime(2026, 12, 31, 16, 59, tzinfo=UTC).isoformat(),
}


@pytest.mark.parametrize(
    ("kind", "message", "payload"),
    [
        ("payment_due", "Số tiền phải đóng …", WORST_DUE),
        ("renewed", RENEWAL_SUCCESS, {"valid_to": "2027-12-31"}),
        ("renewed", messages.renewal_success(date(2027, 1, 4)), {"valid_to": "2027-12-31", "usable_from": "2027-01-04"}),
        ("rejected", RESIDENCE_MISMATCH, {}),
        ("rejected", NO_ELIGIBLE_MEMBER, {}),
        ("rejected", VERIFICATION_UNAVAILABLE, {}),
        ("rejected", household_in_progress("6d1f7c8e-0000-4000-8000-000000000000"), {}),
        ("expired", "Hồ sơ gia hạn thẻ BHYT (mã thanh toán BHYT" + "F" * 32 + ") đã hết hạn nộp tiền lúc "
         "10:00 ngày 06/12/2026 và đã bị hủy. Vui lòng kê khai lại nếu vẫn muốn gia hạn.", {}),
        ("cancelled", messages.CANCELLED, {}),
        ("payment_review", messages.PAYMENT_REVIEW, {}),
        ("reminder", "Thẻ BHYT của hộ gia đình sắp hết hạn " * 10, {}),
    ],
)  # fmt: skip
def test_every_notice_is_one_gsm7_sms(kind: str, message: str, payload: dict) -> None:
    text = sms_text(kind, "GD4010101234567", message, payload)
    assert is_single_gsm7(text), (len(text), text)
    assert text.startswith("BHXH")


def test_the_sms_carry_the_facts() -> None:
    due = sms_text("payment_due", "declarant", "…", WORST_DUE)
    assert "999.999.999 dong" in due and WORST_DUE["txn_ref"] in due and "23:59 31/12/2026" in due
    ok = sms_text("renewed", "GD4010101234567", RENEWAL_SUCCESS, {"valid_to": "2027-12-31"})
    assert ok.endswith(unaccented(RENEWAL_SUCCESS)) and "GD4010101234567" in ok and "31/12/2027" in ok
    later = sms_text(
        "renewed", "GD4010101234567", "…", {"valid_to": "2027-12-31", "usable_from": "2027-01-04"}
    )
    assert "The co gia tri su dung tu ngay 04/01/2027" in later


def test_unaccented_vietnamese() -> None:
    assert unaccented("Đường Hoà Khánh, Thủy, Nguyễn") == "Duong Hoa Khanh, Thuy, Nguyen"


@pytest.mark.parametrize(
    "typed", ["0912345678", "0912 345 678", "+84 912.345.678", "84912345678", "091-234-5678"]
)
def test_mobile_numbers_as_people_type_them(typed: str) -> None:
    assert clean_phone(typed) == "0912345678"


@pytest.mark.parametrize(
    "typed", ["0123456789", "091234567", "02438251234", "+1 650 555 0100", "０９１２３４５６７８"]
)
def test_not_a_vietnamese_mobile_number(typed: str) -> None:
    with pytest.raises(ValueError):
        clean_phone(typed)


def test_emails() -> None:
    assert clean_email(" Mai.Nguyen@Example.VN ") == "Mai.Nguyen@example.vn"
    for bad in ("mai", "mai@", "mai@example", "mai @example.vn", "mai@exa\u200bmple.vn"):
        with pytest.raises(ValueError):
            clean_email(bad)


def test_a_reminder_sms_carries_the_expiry_and_a_whole_link_or_none() -> None:
    """A reminder's SMS says the day the household's cards end and the link to renew; a link too
    long for one message is left out whole (half a link opens nothing), never cut."""
    from domain.messages import reminder_message
    from domain.reminders import kind_for

    expires, today = date(2027, 1, 31), date(2027, 1, 10)
    short = "https://dichvucong.baohiemxahoi.gov.vn/r/6d1f7c8e"
    text = sms_text(kind_for(expires), "declarant", reminder_message(expires, today, short),
                    {"expires_on": expires.isoformat(), "link": short})  # fmt: skip
    assert is_single_gsm7(text)
    assert "31/01/2027" in text and text.endswith(short)
    long = "https://bhyt.example.gov.vn/api/v1/renewals/6d1f7c8e-0000-4000-8000-000000000000/prefill?x=" + "y" * 40
    text = sms_text(kind_for(expires), "declarant", reminder_message(expires, today, long),
                    {"expires_on": expires.isoformat(), "link": long})  # fmt: skip
    assert is_single_gsm7(text)
    assert "31/01/2027" in text and "http" not in text
