"""The e-receipt as an A4 PDF (fpdf2), with the QR code of its lookup URL (segno).

The font is Be Vietnam Pro (SIL OFL 1.1), installed from PyPI by `fontpkg-be-vietnam-pro`: a
font drawn for Vietnamese, so every diacritic has its own glyph, and nothing depends on the
fonts a machine happens to have. fpdf2 embeds only the glyphs used, with a ToUnicode map, so
the text can be searched, copied and extracted back (which the tests do).
"""

from __future__ import annotations

import io
from pathlib import Path

import fontpkg_be_vietnam_pro
import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from domain.receipt_document import REFUNDED_STAMP, ReceiptDocument, format_date, format_money

FONT_DIR = Path(fontpkg_be_vietnam_pro.ROOT) / "files"
FONT = "BeVietnamPro"

# column widths (mm) of the lines table; A4 is 210 mm wide, margins 15 mm
_COLUMNS = (
    ("STT", 10, "C"),
    ("Mã thẻ BHYT", 32, "L"),
    ("Họ và tên", 44, "L"),
    ("Người thứ", 17, "C"),
    ("Số tháng", 13, "C"),
    ("Thời hạn thẻ", 38, "C"),
    ("Số tiền (đồng)", 26, "R"),
)


def render_receipt_pdf(doc: ReceiptDocument) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(FONT, "", str(FONT_DIR / "BeVietnamPro-Regular.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "BeVietnamPro-Bold.ttf"))
    pdf.add_font(FONT, "I", str(FONT_DIR / "BeVietnamPro-Italic.ttf"))
    pdf.set_title(f"{doc.title} {doc.label}")
    pdf.set_author(doc.issuer.name)
    pdf.set_creator("bhyt-renewal")
    pdf.set_lang("vi")
    pdf.add_page()
    width = pdf.epw

    # header: the collecting unit (left), the receipt's identity (right)
    top = pdf.get_y()
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(110, 5, doc.issuer.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(110, 5, f"Địa chỉ: {doc.issuer.address}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.multi_cell(110, 5, f"Mã số thuế: {doc.issuer.tax_code}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(15 + 115, top)
    for label, value in (
        ("Mẫu số (ký hiệu mẫu)", doc.template_symbol),
        ("Ký hiệu", doc.series),
        ("Số", doc.number_text),
    ):
        pdf.set_x(15 + 115)
        pdf.set_font(FONT, "", 9)
        pdf.cell(35, 5, f"{label}:")
        pdf.set_font(FONT, "B", 9)
        pdf.cell(width - 150, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 4)

    pdf.set_font(FONT, "B", 16)
    pdf.cell(width, 9, doc.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "I", 10)
    pdf.cell(
        width,
        6,
        f"(Biên lai điện tử) Ngày {doc.issued_on.day:02d} tháng {doc.issued_on.month:02d} năm {doc.issued_on.year}",
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if doc.refunded:
        pdf.set_text_color(200, 0, 0)
        pdf.set_draw_color(200, 0, 0)
        pdf.set_font(FONT, "B", 14)
        pdf.ln(2)
        pdf.cell(width, 9, REFUNDED_STAMP, border=1, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.set_draw_color(0, 0, 0)
    pdf.ln(3)

    for label, value in (
        ("Người nộp tiền", doc.payer_name),
        ("Khoản thu", doc.fee_name),
        ("Mã thanh toán", doc.txn_ref),
        ("Mã giao dịch ngân hàng", doc.bank_tran_no),
    ):
        if not value:  # the public copy carries no payment code
            continue
        pdf.set_font(FONT, "", 10)
        pdf.cell(50, 6, f"{label}:")
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(width - 50, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)

    # the lines: one per card
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(235, 235, 235)
    for title, w, _align in _COLUMNS:
        pdf.cell(w, 9, title, border=1, align="C", fill=True)
    pdf.ln()
    pdf.set_font(FONT, "", 8.5)
    for line in doc.lines:
        cells = (
            str(line.no),
            line.card_number,
            line.full_name,
            str(line.position) if line.position is not None else "",
            str(line.months),
            f"{format_date(line.valid_from)} – {format_date(line.valid_to)}",
            format_money(line.amount),
        )
        for text, (_title, w, align) in zip(cells, _COLUMNS, strict=True):
            _fitted_cell(pdf, w, 7, text, align, size=8.5)
        pdf.ln()
    pdf.set_font(FONT, "B", 9)
    pdf.cell(sum(w for _t, w, _a in _COLUMNS[:-1]), 7, "Tổng cộng", border=1, align="R")
    pdf.cell(
        _COLUMNS[-1][1], 7, format_money(doc.total), border=1, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(2)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(width, 6, f"Số tiền bằng chữ: {doc.total_in_words}.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    # the lookup: QR code of the URL, the code itself, and the signature note
    qr_top = pdf.get_y()
    pdf.image(io.BytesIO(qr_png(doc.lookup_url)), x=15, y=qr_top, w=32, h=32)
    pdf.set_xy(52, qr_top)
    text_width = width - 37
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(text_width, 5, "Mã tra cứu biên lai:", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(text_width, 5, doc.lookup_code_grouped, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(text_width, 5, "Tra cứu tại:", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.multi_cell(
        text_width, 5, doc.lookup_url, align="L", link=doc.lookup_url, new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.multi_cell(text_width, 5, f"Mã xác thực: {doc.verification_code}", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "I", 8.5)
    pdf.multi_cell(
        text_width,
        4.5,
        f"Biên lai điện tử được ký số bởi {doc.issuer.name}. "
        "Kiểm tra chữ ký trong trình đọc PDF, hoặc quét mã QR để xem biên lai gốc.",
        align="L",
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    if doc.masked:
        pdf.multi_cell(
            text_width,
            4.5,
            "Bản tra cứu công khai: số thẻ được che một phần.",
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )
    return bytes(pdf.output())


def _fitted_cell(pdf: FPDF, w: float, h: float, text: str, align: str, size: float) -> None:
    """One table cell on one line: a long name is set smaller rather than spilling into the next
    cell or wrapping (so the row, and its text read back, stay whole)."""
    pdf.set_font_size(size)
    while size > 5 and pdf.get_string_width(text) > w - 2:
        size -= 0.5
        pdf.set_font_size(size)
    pdf.cell(w, h, text, border=1, align=align)
    pdf.set_font_size(8.5)


def qr_png(url: str, scale: int = 8) -> bytes:
    """The QR code of `url` as PNG (error correction M, a 4-module quiet zone)."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(url: str, scale: int = 4) -> str:
    """The same code as inline SVG, for the HTML page."""
    buffer = io.BytesIO()
    segno.make_qr(url, error="m").save(buffer, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()
