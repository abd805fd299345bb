"""The relation of a member to the household head, as people write it on the form.

A declaration takes the relation as written ("con dâu", "mẹ vợ", "tía", "bà ngoại"). Each known
form is normalised to a code (the standard Vietnamese term), matched case-, spacing- and
tone-placement-insensitively; anything else that is not empty is kept as written under the
code "khác". A relation is never a reason to refuse a declaration: it informs, it decides
nothing — except that only one member can be the head ("chủ hộ").

Forms are not matched without diacritics on purpose: "ba" (father, Southern) and "bà"
(grandmother) differ only by a tone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from domain.names import BIDI_CONTROLS, ZERO_WIDTH, name_key

HEAD = "chủ hộ"
OTHER = "khác"
MAX_RELATION_LENGTH = 50

RELATION_FORMS: dict[str, tuple[str, ...]] = {
    # code: the forms people write for it (the code itself is always one of them)
    HEAD: ("chủ hộ", "chủ hộ gia đình", "bản thân", "chính chủ"),
    "vợ": ("vợ",),
    "chồng": ("chồng",),
    "con": ("con", "con đẻ", "con ruột", "con trai", "con gái", "con nuôi", "con riêng"),
    "con dâu": ("con dâu",),
    "con rể": ("con rể",),
    "con dâu/rể": ("con dâu/rể", "con dâu/con rể", "con dâu, rể"),
    "cha": (
        "cha",
        "bố",
        "ba",
        "tía",
        "thầy",
        "cha đẻ",
        "bố đẻ",
        "cha ruột",
        "bố ruột",
        "cha nuôi",
        "bố nuôi",
    ),
    "mẹ": ("mẹ", "má", "u", "bầm", "mạ", "mế", "mẹ đẻ", "mẹ ruột", "mẹ nuôi"),
    "cha vợ": ("cha vợ", "bố vợ", "ba vợ", "nhạc phụ"),
    "mẹ vợ": ("mẹ vợ", "má vợ", "nhạc mẫu"),
    "cha chồng": ("cha chồng", "bố chồng", "ba chồng"),
    "mẹ chồng": ("mẹ chồng", "má chồng"),
    "ông nội": ("ông nội",),
    "bà nội": ("bà nội",),
    "ông ngoại": ("ông ngoại",),
    "bà ngoại": ("bà ngoại",),
    "ông": ("ông",),
    "bà": ("bà",),
    "cháu nội": ("cháu nội",),
    "cháu ngoại": ("cháu ngoại",),
    "cháu": ("cháu", "cháu ruột", "cháu trai", "cháu gái"),
    "chắt": ("chắt", "chắt nội", "chắt ngoại"),
    "anh": ("anh", "anh trai", "anh ruột"),
    "chị": ("chị", "chị gái", "chị ruột"),
    "em": ("em", "em trai", "em gái", "em ruột"),
    "anh rể": ("anh rể",),
    "chị dâu": ("chị dâu",),
    "em rể": ("em rể",),
    "em dâu": ("em dâu",),
    "anh chồng": ("anh chồng",),
    "chị chồng": ("chị chồng",),
    "em chồng": ("em chồng",),
    "anh vợ": ("anh vợ",),
    "chị vợ": ("chị vợ",),
    "em vợ": ("em vợ",),
    "bác": ("bác", "bác trai", "bác gái"),
    "chú": ("chú",),
    "thím": ("thím",),
    "cô": ("cô",),
    "dượng": ("dượng",),
    "cậu": ("cậu",),
    "mợ": ("mợ",),
    "dì": ("dì",),
    OTHER: ("khác", "người khác", "quan hệ khác"),
}
"""The documented list (README, portal section)."""


def _key(text: str) -> str:
    return name_key(text.replace("/", " / ").replace(",", " , "))


_BY_KEY: dict[str, str] = {_key(form): code for code, forms in RELATION_FORMS.items() for form in forms}


@dataclass(frozen=True)
class Relation:
    code: str
    text: str

    @property
    def is_head(self) -> bool:
        return self.code == HEAD


def clean_relation_text(value: str) -> str:
    """The relation as written, made storable: NFC, single spaces, without the invisible
    characters that would break storage or display, cut to a sane length. Never refuses."""
    visible = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in value
        if c not in BIDI_CONTROLS
        and c not in ZERO_WIDTH
        and unicodedata.category(c) not in {"Cf", "Cs", "Co"}
    )
    return " ".join(unicodedata.normalize("NFC", visible).split())[:MAX_RELATION_LENGTH]


def parse_relation(value: str) -> Relation:
    """The code of a known form, or "khác" keeping the text as written."""
    text = clean_relation_text(value)
    code = _BY_KEY.get(_key(text)) if text else None
    return Relation(code=code or OTHER, text=text)
