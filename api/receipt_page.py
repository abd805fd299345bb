"""The printable receipt (biên lai thu tiền) in Vietnamese, from a Jinja2 template."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from adapters.receipt_pdf import qr_svg
from domain.receipt_document import REFUNDED_STAMP, ReceiptDocument, format_date, format_money

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_templates.filters["money"] = format_money
_templates.filters["vn_date"] = format_date


def render_receipt(doc: ReceiptDocument, *, pdf_url: str, application_id: str | None = None) -> str:
    """The page of one receipt; `application_id` only on the portal's page (not the public one)."""
    return _templates.get_template("receipt.html").render(
        doc=doc,
        application_id=application_id,
        pdf_url=pdf_url,
        qr=Markup(qr_svg(doc.lookup_url)),  # segno's own SVG, built from our URL
        refunded_stamp=REFUNDED_STAMP,
    )


def render_not_found() -> str:
    return _templates.get_template("receipt_not_found.html").render()


def render_too_many(retry_after: int) -> str:
    return _templates.get_template("receipt_too_many.html").render(retry_after=retry_after)
