"""The IPN signature (DESIGN §3), checked against vectors computed here with hmac/hashlib only.

The canonical strings below are written out by hand, so a change to the encoding or the order
in `adapters.ipn` shows up here rather than as "every callback fails" in production.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest

from adapters import ipn

SECRET = "TESTSECRET0123456789ABCDEF"

PARAMS = {
    "vnp_TxnRef": "BHYT-APP42-1",
    "vnp_Amount": "126360000",
    "vnp_TmnCode": "BHXHDEV1",
    "vnp_BankCode": "NCB",
    "vnp_BankTranNo": "VNP14000001",
    "vnp_CardType": "ATM",
    "vnp_OrderInfo": "Gia han BHYT ho GD/HN-BD-0001 (3 the)",
    "vnp_PayDate": "20260115093045",
    "vnp_ResponseCode": "00",
    "vnp_TransactionNo": "14000001",
    "vnp_TransactionStatus": "00",
}

CANONICAL = (
    "vnp_Amount=126360000&vnp_BankCode=NCB&vnp_BankTranNo=VNP14000001&vnp_CardType=ATM"
    "&vnp_OrderInfo=Gia+han+BHYT+ho+GD%2FHN-BD-0001+%283+the%29&vnp_PayDate=20260115093045"
    "&vnp_ResponseCode=00&vnp_TmnCode=BHXHDEV1&vnp_TransactionNo=14000001&vnp_TransactionStatus=00"
    "&vnp_TxnRef=BHYT-APP42-1"
)


def reference_hash(message: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def test_canonical_query_sorts_keys_and_url_encodes_values():
    assert ipn.canonical_query(PARAMS) == CANONICAL


def test_canonical_query_leaves_out_the_hash_its_type_and_foreign_keys():
    noisy = {**PARAMS, "vnp_SecureHash": "abc", "vnp_SecureHashType": "HmacSHA512", "utm_source": "x"}
    assert ipn.canonical_query(noisy) == CANONICAL


def test_canonical_query_encodes_vietnamese_as_utf8_percent_escapes():
    assert (
        ipn.canonical_query({"vnp_OrderInfo": "Gia hạn thẻ"}) == "vnp_OrderInfo=Gia+h%E1%BA%A1n+th%E1%BA%BB"
    )


def test_sign_is_hex_hmac_sha512_of_the_canonical_query():
    assert ipn.sign(PARAMS, SECRET) == reference_hash(CANONICAL)
    assert len(ipn.sign(PARAMS, SECRET)) == 128


def test_a_known_vector_computed_independently():
    """HMAC built by hand from hashlib (RFC 2104, SHA-512 block of 128 bytes): H(K^opad || H(K^ipad || m))."""
    message = b"vnp_Amount=1000000&vnp_TxnRef=A1"
    key = SECRET.encode().ljust(128, b"\0")
    inner = hashlib.sha512(bytes(b ^ 0x36 for b in key) + message).digest()
    outer = hashlib.sha512(bytes(b ^ 0x5C for b in key) + inner).hexdigest()
    assert ipn.sign({"vnp_TxnRef": "A1", "vnp_Amount": "1000000"}, SECRET) == outer


def test_signed_params_verify():
    params = ipn.signed(PARAMS, SECRET)
    assert params["vnp_SecureHash"] == reference_hash(CANONICAL)
    assert ipn.verify(params, SECRET)


def test_verify_accepts_upper_case_hex_and_ignores_the_hash_type():
    params = ipn.signed(PARAMS, SECRET)
    params["vnp_SecureHash"] = params["vnp_SecureHash"].upper()
    params["vnp_SecureHashType"] = "HmacSHA512"
    assert ipn.verify(params, SECRET)


@pytest.mark.parametrize("key", sorted(PARAMS))
def test_tampering_with_any_parameter_fails_verification(key):
    params = ipn.signed(PARAMS, SECRET)
    params[key] = params[key] + "0"
    assert not ipn.verify(params, SECRET)


def test_an_added_vnp_parameter_fails_verification():
    params = ipn.signed(PARAMS, SECRET)
    params["vnp_Extra"] = "1"
    assert not ipn.verify(params, SECRET)


def test_wrong_secret_missing_or_garbled_hash_fail():
    params = ipn.signed(PARAMS, SECRET)
    assert not ipn.verify(params, "another-secret")
    assert not ipn.verify(PARAMS, SECRET)
    assert not ipn.verify({**PARAMS, "vnp_SecureHash": ""}, SECRET)
    assert not ipn.verify({**PARAMS, "vnp_SecureHash": "zz"}, SECRET)
    assert not ipn.verify({**PARAMS, "vnp_SecureHash": "đ" * 128}, SECRET)


def test_signed_query_round_trips_through_url_decoding():
    """What the bank puts on the URL, decoded as a web framework decodes it, still verifies."""
    decoded = dict(parse_qsl(ipn.signed_query(PARAMS, SECRET), keep_blank_values=True))
    assert decoded == ipn.signed(PARAMS, SECRET)
    assert ipn.verify(decoded, SECRET)


def test_payment_from_params_converts_amount_and_pay_date():
    payment = ipn.payment_from_params(ipn.signed(PARAMS, SECRET))
    assert payment.amount == 1_263_600
    assert payment.pay_date == datetime(2026, 1, 15, 9, 30, 45, tzinfo=timezone(timedelta(hours=7)))
    assert payment.pay_date.utcoffset() == timedelta(hours=7)
    assert (payment.txn_ref, payment.bank_code, payment.bank_tran_no, payment.transaction_no) == (
        "BHYT-APP42-1",
        "NCB",
        "VNP14000001",
        "14000001",
    )
    assert payment.is_paid
    assert payment.order_info == PARAMS["vnp_OrderInfo"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("vnp_Amount", "126360050"),
        ("vnp_Amount", "-100"),
        ("vnp_Amount", "1e5"),
        ("vnp_Amount", ""),
        ("vnp_PayDate", "2026-01-15"),
        ("vnp_PayDate", "20261315093045"),
        ("vnp_TxnRef", ""),
    ],
)
def test_payment_from_params_rejects_bad_values_naming_the_parameter(key, value):
    with pytest.raises(ValueError, match=key):
        ipn.payment_from_params({**PARAMS, key: value})


def test_payment_from_params_needs_the_status_codes():
    params = dict(PARAMS)
    del params["vnp_TransactionStatus"]
    with pytest.raises(ValueError, match="vnp_TransactionStatus"):
        ipn.payment_from_params(params)


def test_a_failed_payment_is_not_paid():
    payment = ipn.payment_from_params({**PARAMS, "vnp_ResponseCode": "24", "vnp_TransactionStatus": "02"})
    assert not payment.is_paid
    assert not ipn.is_paid({**PARAMS, "vnp_ResponseCode": "00", "vnp_TransactionStatus": "02"})
    assert ipn.is_paid(PARAMS)


def test_ipn_params_writes_amount_times_100_and_pay_date_in_gmt7():
    params = ipn.ipn_params(
        tmn_code="BHXHDEV1",
        txn_ref="BHYT-APP42-1",
        amount_dong=1_263_600,
        bank_code="NCB",
        bank_tran_no="VNP14000001",
        transaction_no="14000001",
        pay_date=datetime(2026, 1, 15, 2, 30, 45, tzinfo=UTC),
        order_info=PARAMS["vnp_OrderInfo"],
    )
    assert params == PARAMS
    assert "vnp_SecureHash" not in params


def test_ipn_params_refuses_fractional_or_negative_amounts():
    common = dict(
        tmn_code="T",
        txn_ref="R",
        bank_code="NCB",
        bank_tran_no="1",
        transaction_no="1",
        pay_date=datetime(2026, 1, 1, tzinfo=UTC),
        order_info="x",
    )
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            ipn.ipn_params(amount_dong=bad, **common)  # type: ignore[arg-type]


def test_pay_date_round_trip_and_naive_means_vietnam_time():
    moment = datetime(2026, 7, 1, 23, 59, 59, tzinfo=UTC)
    assert ipn.format_pay_date(moment) == "20260702065959"
    assert ipn.parse_pay_date("20260702065959") == moment
    assert ipn.format_pay_date(datetime(2026, 7, 1, 8, 0, 0)) == "20260701080000"


def test_answers_use_vnpay_codes_in_order():
    assert ipn.ipn_answer(ipn.RSP_OK) == {"RspCode": "00", "Message": "Confirm Success"}
    assert list(ipn.ipn_answer("97")) == ["RspCode", "Message"]
    assert ipn.FINAL_RSP_CODES == {"00", "02"}
