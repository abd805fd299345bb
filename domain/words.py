"""Amounts in Vietnamese words, as the receipt (biên lai thu tiền) writes the total.

Reading conventions followed (the usual ones of accounting documents):
- a zero tens digit before a non-zero unit reads "linh" (105: một trăm linh năm);
- unit 1 after tens 2–9 reads "mốt" (21: hai mươi mốt; but 11: mười một, 101: một trăm linh một);
- unit 5 after tens 1–9 reads "lăm" (15: mười lăm; 25: hai mươi lăm; but 105: một trăm linh năm);
- unit 4 always reads "bốn" (not the colloquial "tư");
- a group of three below a non-zero higher group always reads its hundreds, even zero
  ("không trăm"): 1 005 000 is "một triệu không trăm linh năm nghìn";
- all-zero groups are left out: 1 000 000 is "một triệu";
- scales: nghìn, triệu, tỷ; above a billion the count of tỷ is read as a number itself
  (10^12: "một nghìn tỷ"; 1 234 000 000 000: "một nghìn hai trăm ba mươi bốn tỷ").
"""

from __future__ import annotations

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
BILLION = 1_000_000_000


def _group_words(value: int, *, after_higher: bool) -> list[str]:
    """Words of a group 1–999; `after_higher` when a non-zero group precedes it."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if hundreds or after_higher:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(DIGITS[units])
        return words
    words += ["mười"] if tens == 1 else [DIGITS[tens], "mươi"]
    if units == 1 and tens >= 2:
        words.append("mốt")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(DIGITS[units])
    return words


def _words(amount: int, *, after_higher: bool) -> list[str]:
    """Words of 1 ≤ amount; the part above a billion is itself read as a number of tỷ."""
    words: list[str] = []
    if amount >= BILLION:
        billions, amount = divmod(amount, BILLION)
        words = _words(billions, after_higher=after_higher) + ["tỷ"]
    for scale, size in (("triệu", 1_000_000), ("nghìn", 1_000), ("", 1)):
        group, amount = divmod(amount, size)
        if group:
            words += _group_words(group, after_higher=after_higher or bool(words))
            if scale:
                words.append(scale)
    return words


def amount_in_words(amount: int) -> str:
    """'Ba triệu một trăm bốn mươi hai nghìn hai trăm sáu mươi đồng' for 3142260."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError("amount must be an int of whole đồng")
    if amount < 0:
        raise ValueError("amount must not be negative")
    if amount == 0:
        return "Không đồng"
    text = " ".join(_words(amount, after_higher=False))
    return text[0].upper() + text[1:] + " đồng"
