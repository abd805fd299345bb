from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.words import amount_in_words

CASES = [
    (0, "Không đồng"),
    (1, "Một đồng"),
    (4, "Bốn đồng"),
    (5, "Năm đồng"),
    (10, "Mười đồng"),
    (11, "Mười một đồng"),
    (14, "Mười bốn đồng"),
    (15, "Mười lăm đồng"),
    (20, "Hai mươi đồng"),
    (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi bốn đồng"),
    (25, "Hai mươi lăm đồng"),
    (55, "Năm mươi lăm đồng"),
    (91, "Chín mươi mốt đồng"),
    (100, "Một trăm đồng"),
    (101, "Một trăm linh một đồng"),
    (105, "Một trăm linh năm đồng"),
    (110, "Một trăm mười đồng"),
    (115, "Một trăm mười lăm đồng"),
    (121, "Một trăm hai mươi mốt đồng"),
    (1_000, "Một nghìn đồng"),
    (1_001, "Một nghìn không trăm linh một đồng"),
    (1_010, "Một nghìn không trăm mười đồng"),
    (1_015, "Một nghìn không trăm mười lăm đồng"),
    (2_500, "Hai nghìn năm trăm đồng"),
    (15_000, "Mười lăm nghìn đồng"),
    (21_000, "Hai mươi mốt nghìn đồng"),
    (105_000, "Một trăm linh năm nghìn đồng"),
    (804_600, "Tám trăm linh bốn nghìn sáu trăm đồng"),
    (563_220, "Năm trăm sáu mươi ba nghìn hai trăm hai mươi đồng"),
    (321_840, "Ba trăm hai mươi mốt nghìn tám trăm bốn mươi đồng"),
    (1_000_000, "Một triệu đồng"),
    (1_000_001, "Một triệu không trăm linh một đồng"),
    (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
    (2_030_000, "Hai triệu không trăm ba mươi nghìn đồng"),
    (3_142_260, "Ba triệu một trăm bốn mươi hai nghìn hai trăm sáu mươi đồng"),
    (25_500_000, "Hai mươi lăm triệu năm trăm nghìn đồng"),
    (1_000_000_000, "Một tỷ đồng"),
    (1_000_000_005, "Một tỷ không trăm linh năm đồng"),
    (2_001_000_000, "Hai tỷ không trăm linh một triệu đồng"),
    (15_000_000_000, "Mười lăm tỷ đồng"),
    (1_000_000_000_000, "Một nghìn tỷ đồng"),
    (
        1_234_567_891_011,
        "Một nghìn hai trăm ba mươi bốn tỷ năm trăm sáu mươi bảy triệu "
        "tám trăm chín mươi mốt nghìn không trăm mười một đồng",
    ),
    (1_000_005_000_000, "Một nghìn tỷ không trăm linh năm triệu đồng"),
    (10**18, "Một tỷ tỷ đồng"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_hand_checked(amount: int, words: str) -> None:
    assert amount_in_words(amount) == words


def test_negative_rejected() -> None:
    with pytest.raises(ValueError):
        amount_in_words(-1)


@given(st.integers(1, 10**15))
def test_shape(amount: int) -> None:
    words = amount_in_words(amount)
    assert words[0].isupper() and words[1:] == words[1:].lower()
    assert words.endswith(" đồng")
    assert "  " not in words
    assert " tư" not in words
    assert "mươi một" not in words  # 21 is "hai mươi mốt"
    assert "mươi năm" not in words and "mười năm" not in words  # 25/15 read "lăm"
    assert "linh lăm" not in words and "linh mốt" not in words


@given(st.integers(0, 10**13), st.integers(0, 10**13))
def test_distinct_amounts_read_differently(a: int, b: int) -> None:
    """No two amounts share words (a receipt total in words must determine the figure)."""
    assert (amount_in_words(a) == amount_in_words(b)) == (a == b)


@given(st.integers(1, 999), st.integers(0, 999))
def test_thousands_compose(high: int, low: int) -> None:
    """How the group below "nghìn" reads does not depend on the group above it."""
    words = amount_in_words(high * 1000 + low)
    head = amount_in_words(high)[: -len(" đồng")]
    assert words.startswith(head + " nghìn")
    if low:
        assert " nghìn " + amount_in_words(1000 + low).split(" nghìn ", 1)[1] == words[len(head) :]
