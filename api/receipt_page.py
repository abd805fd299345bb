"""The printable receipt (biên lai thu tiền) in Vietnamese, from a Jinja2 template."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from domain.models import Receipt

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_templates.filters["money"] = lambda amount: f"{amount:,}".replace(",", ".")
_templates.filters["vn_date"] = lambda day: day.strftime("%d/%m/%Y")


def render_receipt(receipt: Receipt, application_id: str) -> str:
    return _templates.get_template("receipt.html").render(receipt=receipt, application_id=application_id)
