"""The e-receipt's content: every field from the receipt and configuration, masking, the refund mark."""

from __future__ import annotations

from domain.receipt_document import (
    REFUNDED_STAMP,
    mask_card_number,
    normalise_lookup_code,
)
from tests.support.receipts import ISSUER, LOOKUP_CODE, SIX_MEMBERS, six_member_document


def test_document_carries_every_field_of_the_receipt_and_the_configuration():
    doc = six_member_document()
    assert (doc.title, doc.template_symbol, doc.series, doc.number_text, doc.label) == (
        "BIÊN LAI THU TIỀN",
        "01BLP0-001",
        "BH26",
        "0000042",
        "BH26/2026/0000042",
    )
    assert doc.issuer == ISSUER
    assert [(x.card_number, x.full_name, x.amount) for x in doc.lines] == SIX_MEMBERS
    assert [x.position for x in doc.lines] == [1, 2, 3, 4, 5, 6]
    assert doc.total == sum(a for _c, _n, a in SIX_MEMBERS)
    assert doc.total_in_words == "Bốn triệu năm trăm bốn mươi tám nghìn chín trăm sáu mươi đồng"
    assert doc.lookup_url.endswith(f"/receipts/{LOOKUP_CODE}")
    assert doc.refunded is False and doc.masked is False
    assert six_member_document(refunded=True).refunded is True
    assert REFUNDED_STAMP == "ĐÃ HOÀN TIỀN"


def test_public_copy_masks_the_bhxh_number_in_each_card_and_nothing_else():
    doc = six_member_document()
    public = doc.for_public()
    assert public.masked
    assert [x.card_number for x in public.lines] == [mask_card_number(c) for c, _n, _a in SIX_MEMBERS]
    assert public.lines[0].card_number == "GD401•••••••567"
    assert all(c[3:] not in public.model_dump_json() for c, _n, _a in SIX_MEMBERS)
    assert [x.full_name for x in public.lines] == [x.full_name for x in doc.lines]
    assert public.total == doc.total


def test_mask_short_values_entirely():
    assert mask_card_number("0101234") == "•••••••"


def test_lookup_code_as_typed_from_paper():
    assert normalise_lookup_code("abcd-efgh ijkl") == "ABCDEFGHIJKL"
    assert six_member_document().lookup_code_grouped.split("-")[0] == LOOKUP_CODE[:4]
