"""The PDF e-receipt: Vietnamese text extracted back, the QR decoded back, the PAdES signature."""

from __future__ import annotations

import io
import unicodedata

import pytest
import zxingcpp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from adapters.receipt_pdf import render_receipt_pdf
from adapters.receipt_signing import ReceiptSigner, SigningIdentityMissing, ensure_self_signed
from domain.receipt_document import format_money
from tests.support.receipts import SIX_MEMBERS, six_member_document


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in reader.pages))


def _qr_payloads(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    found = []
    for page in reader.pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


@pytest.fixture(scope="module")
def signer(tmp_path_factory) -> ReceiptSigner:
    folder = tmp_path_factory.mktemp("signing")
    assert ensure_self_signed(folder / "cert.pem", folder / "key.pem")
    assert not ensure_self_signed(folder / "cert.pem", folder / "key.pem")  # kept, not replaced
    return ReceiptSigner(folder / "cert.pem", folder / "key.pem")


def _validate(pdf: bytes, signer: ReceiptSigner):
    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    trust = ValidationContext(trust_roots=[signer.certificate], allow_fetching=False)
    return validate_pdf_signature(signature, trust)


def test_six_member_pdf_reads_back_every_name_card_amount_and_the_words(signer):
    doc = six_member_document()
    pdf = signer.sign(render_receipt_pdf(doc), reason="test")
    assert pdf.startswith(b"%PDF-")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4
    text = _text(pdf)
    for card, name, amount in SIX_MEMBERS:
        assert card in text
        assert name in text
        assert format_money(amount) in text
    assert format_money(doc.total) in text
    assert doc.total_in_words in text
    for field in (
        "BIÊN LAI THU TIỀN",
        doc.issuer.name,
        doc.issuer.address,
        f"Mã số thuế: {doc.issuer.tax_code}",
        doc.template_symbol,
        "Ký hiệu: BH26",
        "Số: 0000042",
        "Người nộp tiền: Nguyễn Văn An",
        doc.fee_name,
        "Ngày 25 tháng 11 năm 2026",
        "01/12/2026 – 30/11/2027",
        doc.lookup_code_grouped,
        doc.txn_ref,
        doc.bank_tran_no,
    ):
        assert field in text, field
    assert "ĐÃ HOÀN TIỀN" not in text


def test_the_qr_code_holds_the_lookup_url():
    doc = six_member_document(base_url="https://bhyt.example.vn")
    assert _qr_payloads(render_receipt_pdf(doc)) == [doc.lookup_url]


def test_a_refunded_payment_receipt_says_so():
    assert "ĐÃ HOÀN TIỀN" in _text(render_receipt_pdf(six_member_document(refunded=True)))


def test_public_copy_pdf_masks_the_card_numbers():
    text = _text(render_receipt_pdf(six_member_document().for_public()))
    assert all(card not in text for card, _n, _a in SIX_MEMBERS)
    assert all(name in text for _c, name, _a in SIX_MEMBERS)


def test_signature_verifies_and_one_changed_byte_breaks_it(signer):
    pdf = signer.sign(render_receipt_pdf(six_member_document()), reason="test")
    status = _validate(pdf, signer)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.signing_cert.subject == signer.certificate.subject
    assert "ETSI.CAdES.detached" in pdf.decode("latin-1")  # PAdES subfilter

    # one byte of the signed content (a digit of the PDF's creation date, in its first revision)
    at = pdf.index(b"/CreationDate (D:") + len(b"/CreationDate (D:") + 3
    tampered = bytearray(pdf)
    tampered[at] = ord("9") if tampered[at] != ord("9") else ord("8")
    broken = _validate(bytes(tampered), signer)
    assert not broken.intact and not broken.bottom_line  # the digest no longer matches


def test_missing_production_certificate_is_a_clear_error(tmp_path):
    with pytest.raises(SigningIdentityMissing, match="cert.pem"):
        ReceiptSigner(tmp_path / "cert.pem", tmp_path / "key.pem")
