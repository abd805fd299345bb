"""The e-receipt as a document (biên lai điện tử): every field it prints, in one pure model.

Field list — the content of a receipt in Nghị định 123/2020/NĐ-CP, Điều 32 (khoản 2, biên lai),
completed by what the issue and DESIGN §2 ask of a BHYT receipt:
- the receipt's name ("BIÊN LAI THU TIỀN"), its template symbol (ký hiệu mẫu biên lai), series
  (ký hiệu biên lai) and number (số biên lai);
- the collecting unit's name and tax code (tên, mã số thuế của tổ chức thu), and its address;
- the payer (người nộp tiền: the household head);
- what was paid for (tên khoản thu) and, per card, the card number, the member, the months, the
  period the payment buys and the member's position in the household reduction order;
- the amount in figures and in words (số tiền bằng số, bằng chữ);
- the date (ngày, tháng, năm lập biên lai);
- the collector's signature — on an e-receipt a digital signature (chữ ký số): the PAdES
  signature of the PDF, not a field of this model;
- the lookup code and where to check it (mã tra cứu, trang tra cứu);
- for a bank payment: the payment reference and bank transaction number (DESIGN §2).

Everything comes from configuration (`Issuer`, template symbol, fee name) and from the allocation
transaction (the stored `Receipt`, the positions of its allocations, the public code); a refund
recorded against the payment makes the document say so.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from domain.models import Receipt

RECEIPT_TITLE = "BIÊN LAI THU TIỀN"
REFUNDED_STAMP = "ĐÃ HOÀN TIỀN"
MASK = "•"


class Issuer(BaseModel):
    """The collecting unit (đơn vị thu), from configuration."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    tax_code: str


class DocumentLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    no: int
    card_number: str
    full_name: str
    position: int | None = Field(description="position in the household reduction order (1 = first)")
    months: int
    valid_from: date
    valid_to: date
    amount: int


class ReceiptDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str = RECEIPT_TITLE
    template_symbol: str
    series: str
    number: int
    label: str
    issued_on: date
    issuer: Issuer
    payer_name: str
    fee_name: str
    lines: list[DocumentLine]
    total: int
    total_in_words: str
    txn_ref: str
    bank_tran_no: str
    verification_code: str
    lookup_code: str
    lookup_url: str
    refunded: bool = False
    masked: bool = False

    @property
    def number_text(self) -> str:
        return f"{self.number:07d}"

    @property
    def lookup_code_grouped(self) -> str:
        """The code in groups of four, as a person reads or types it from paper."""
        return "-".join(self.lookup_code[i : i + 4] for i in range(0, len(self.lookup_code), 4))

    def for_public(self) -> ReceiptDocument:
        """What the public lookup shows: the same receipt with the card numbers masked, and without
        the payment code (`BHYT` + the application id, which the public page keeps to itself)."""
        lines = [
            line.model_copy(update={"card_number": mask_card_number(line.card_number)}) for line in self.lines
        ]
        return self.model_copy(update={"lines": lines, "masked": True, "txn_ref": ""})


def mask_card_number(card_number: str) -> str:
    """Keep the group, benefit and province (`GD401`) and the last three digits; the BHXH number
    in between, the person's lifelong social-insurance number, is not shown to whoever has the code."""
    if len(card_number) <= 8:
        return MASK * len(card_number)
    return card_number[:5] + MASK * (len(card_number) - 8) + card_number[-3:]


def normalise_lookup_code(text: str) -> str:
    """A code as typed or read from paper: any case, with or without the group dashes and spaces."""
    return "".join(ch for ch in text.upper() if ch not in "- ")


def build_receipt_document(
    receipt: Receipt,
    *,
    issuer: Issuer,
    template_symbol: str,
    fee_name: str,
    positions: dict[int, int],
    lookup_code: str,
    lookup_url: str,
    refunded: bool = False,
) -> ReceiptDocument:
    """`positions`: line number (1-based, the receipt's order) → position in the reduction order."""
    lines = [
        DocumentLine(
            no=no,
            card_number=line.card_number,
            full_name=line.full_name,
            position=positions.get(no),
            months=line.months,
            valid_from=line.valid_from,
            valid_to=line.valid_to,
            amount=line.amount,
        )
        for no, line in enumerate(receipt.lines, start=1)
    ]
    return ReceiptDocument(
        template_symbol=template_symbol,
        series=receipt.series,
        number=receipt.number,
        label=receipt.label,
        issued_on=receipt.issued_on,
        issuer=issuer,
        payer_name=receipt.payer_name,
        fee_name=fee_name,
        lines=lines,
        total=receipt.total,
        total_in_words=receipt.total_in_words,
        txn_ref=receipt.txn_ref,
        bank_tran_no=receipt.bank_tran_no,
        verification_code=receipt.verification_code,
        lookup_code=lookup_code,
        lookup_url=lookup_url,
        refunded=refunded,
    )


def format_money(amount: int) -> str:
    """1263600 → "1.263.600" (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")


def format_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")
