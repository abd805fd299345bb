"""`GET /receipts/{code}` (public) and `GET /api/v1/renewals/{id}/receipt?format=pdf` (portal)."""

from __future__ import annotations

import io
import unicodedata

import httpx
from pypdf import PdfReader

from adapters.db.receipt_lookup import mark_receipt_refunded
from api.app import create_app
from domain.receipt_document import format_money, mask_card_number
from tests.support.receipt_api import issued_receipt_db, receipt_settings
from tests.support.receipts import SIX_MEMBERS

PORTAL = {"Authorization": "Bearer dev-portal-token"}


def _pdf_text(content: bytes) -> str:
    return unicodedata.normalize(
        "NFC", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    )


async def test_public_lookup_needs_no_token_and_masks_the_card_numbers(receipt_api):
    page = await receipt_api.client.get(f"/receipts/{receipt_api.code}")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    for card, name, _amount in SIX_MEMBERS:
        assert name in page.text
        assert card not in page.text and card[3:] not in page.text
    assert "BIÊN LAI THU TIỀN" in page.text
    assert "<svg" in page.text  # the QR code
    assert f'href="/receipts/{receipt_api.code}?format=pdf"' in page.text
    assert "Mã hồ sơ" not in page.text  # the application id is the portal's, not the public's


async def test_public_lookup_accepts_the_code_as_printed(receipt_api):
    grouped = "-".join(receipt_api.code[i : i + 4] for i in range(0, 32, 4)).lower()
    assert (await receipt_api.client.get(f"/receipts/{grouped}")).status_code == 200


async def test_unknown_or_malformed_code_gets_a_plain_404_page(receipt_api):
    for code in ("A" * 32, "nope", receipt_api.code[:-1], "x" * 200):
        response = await receipt_api.client.get(f"/receipts/{code}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Không tìm thấy biên lai" in response.text


async def test_public_pdf_is_signed_and_masked(receipt_api):
    response = await receipt_api.client.get(f"/receipts/{receipt_api.code}", params={"format": "pdf"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith('inline; filename="bien-lai-BH26-')
    assert b"/ETSI.CAdES.detached" in response.content
    text = _pdf_text(response.content)
    for card, name, _amount in SIX_MEMBERS:
        assert name in text
        assert card not in text


async def test_portal_pdf_carries_the_full_card_numbers_and_the_lookup_link(receipt_api):
    api = receipt_api.client
    url = f"/api/v1/renewals/{receipt_api.application_id}/receipt"
    assert (await api.get(url, params={"format": "pdf"})).status_code == 401
    receipt = (await api.get(url, headers=PORTAL)).json()
    assert receipt["public_code"] == receipt_api.code
    assert receipt["lookup_url"] == f"http://receipts.test/receipts/{receipt_api.code}"
    assert receipt["refunded"] is False
    pdf = await api.get(url, params={"format": "pdf"}, headers=PORTAL)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    for line in receipt["lines"]:
        assert line["card_number"] in text
        assert line["full_name"] in text
        assert format_money(line["amount"]) in text
    assert receipt["total_in_words"] in text
    assert (
        await api.get("/api/v1/renewals/unknown/receipt", params={"format": "pdf"}, headers=PORTAL)
    ).status_code == 404


async def test_a_refunded_receipt_says_so_on_the_page_and_in_the_pdf(receipt_api):
    async with receipt_api.db.unit_of_work() as uow:
        from datetime import UTC, datetime

        assert await mark_receipt_refunded(uow, receipt_api.application_id, datetime.now(UTC))
        await uow.commit()
    page = await receipt_api.client.get(f"/receipts/{receipt_api.code}")
    assert "ĐÃ HOÀN TIỀN" in page.text
    pdf = await receipt_api.client.get(f"/receipts/{receipt_api.code}", params={"format": "pdf"})
    assert "ĐÃ HOÀN TIỀN" in _pdf_text(pdf.content)


async def test_lookups_are_rate_limited_per_client(tmp_path):
    settings = receipt_settings(tmp_path, bhyt_receipt_lookups_per_minute=3)
    db, code = await issued_receipt_db(settings)
    app = create_app(settings, temporal=object(), db=db)  # type: ignore[arg-type]
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://receipts.test") as client:
                codes = [(await client.get(f"/receipts/{c}")).status_code for c in (code, "A" * 32, code)]
                limited = await client.get(f"/receipts/{code}")
            other = httpx.ASGITransport(app=app, client=("198.51.100.9", 5000))
            async with httpx.AsyncClient(transport=other, base_url="http://receipts.test") as client:
                someone_else = await client.get(f"/receipts/{code}")
    finally:
        await db.dispose()
    assert codes == [200, 404, 200]  # misses count too: no free guessing
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert someone_else.status_code == 200


def test_masking_matches_what_the_page_shows():
    assert mask_card_number(SIX_MEMBERS[0][0]) == "GD401•••••••567"


async def test_production_without_its_certificate_answers_503_not_a_dev_signature(tmp_path):
    settings = receipt_settings(tmp_path, bhyt_receipt_self_signed=False)
    db, code = await issued_receipt_db(settings)
    app = create_app(settings, temporal=object(), db=db)  # type: ignore[arg-type]
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://receipts.test") as client:
                pdf = await client.get(f"/receipts/{code}", params={"format": "pdf"})
                page = await client.get(f"/receipts/{code}")
    finally:
        await db.dispose()
    assert pdf.status_code == 503
    assert page.status_code == 200  # the page itself needs no signature
    assert not (tmp_path / "signing" / "cert.pem").exists()


async def test_behind_the_proxy_each_real_client_has_its_own_limit(tmp_path):
    """Issue 21: every lookup reached the API from the proxy's address, so the whole public shared
    one bucket. X-Forwarded-For is believed from BHYT_TRUSTED_PROXIES only: from anyone else it
    cannot buy a fresh bucket."""
    proxy = "10.0.4.2"
    settings = receipt_settings(
        tmp_path, bhyt_receipt_lookups_per_minute=3, bhyt_trusted_proxies=f"{proxy},10.9.0.0/16"
    )
    db, code = await issued_receipt_db(settings)
    app = create_app(settings, temporal=object(), db=db)  # type: ignore[arg-type]

    async def lookups(peer: str, forwarded_for: str | None, count: int) -> list[int]:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        transport = httpx.ASGITransport(app=app, client=(peer, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://receipts.test") as client:
            return [
                (await client.get(f"/receipts/{code}", headers=headers)).status_code for _ in range(count)
            ]

    try:
        async with app.router.lifespan_context(app):
            flood = await lookups(proxy, "203.0.113.7", 5)
            other = await lookups(proxy, "198.51.100.9", 2)
            spoofed_chain = await lookups(proxy, "198.51.100.9, 203.0.113.7", 1)  # the proxy appends the peer
            direct = await lookups("192.0.2.50", "198.51.100.1", 3) + await lookups(
                "192.0.2.50", "198.51.100.2", 1
            )
    finally:
        await db.dispose()
    assert flood == [200, 200, 200, 429, 429]
    assert other == [200, 200], "another citizen behind the same proxy is not locked out"
    assert spoofed_chain == [429], "the address the proxy saw counts, not one the client wrote"
    assert direct == [200, 200, 200, 429], "an untrusted peer's X-Forwarded-For is ignored"


async def test_the_public_page_and_pdf_do_not_show_the_payment_code(receipt_api):
    """Issue 21: the public page printed `txn_ref` (`BHYT` + the application id); the portal's keeps it."""
    txn_ref = f"T{receipt_api.application_id}"
    page = await receipt_api.client.get(f"/receipts/{receipt_api.code}")
    pdf = await receipt_api.client.get(f"/receipts/{receipt_api.code}", params={"format": "pdf"})
    assert page.status_code == 200 and pdf.status_code == 200
    assert f">{txn_ref}<" not in page.text and "Mã thanh toán" not in page.text
    assert "Mã thanh toán" not in _pdf_text(pdf.content)
    portal = await receipt_api.client.get(
        f"/api/v1/renewals/{receipt_api.application_id}/receipt", params={"format": "pdf"}, headers=PORTAL
    )
    assert portal.status_code == 200 and f"Mã thanh toán: {txn_ref}" in _pdf_text(portal.content)
