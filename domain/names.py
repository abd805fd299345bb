"""Vietnamese personal names: what a name may contain, and when two spellings are one name.

Names arrive from phones, old Windows keyboards (VNI, TCVN3 converted), copy-paste from PDFs
and registry extracts. They are stored as NFC with single spaces. Characters that make a name
unreadable or ambiguous on a screen (controls, bidi overrides, zero-width characters) are
refused, because PostgreSQL refuses NUL and a name that prints differently from what it
compares as could pass for another person. Messages never repeat the name.

Matching (`same_name`) forgives what keyboards do differently for one name and nothing else:
  - composition: NFC and NFD (and mixed) are equal;
  - case and spacing: "NGUYỄN  văn an" equals "Nguyễn Văn An";
  - tone-mark placement: the old and the new style put the tone on a different vowel of the
    same syllable ("Hoà"/"Hòa", "Thuỷ"/"Thủy", "khoẻ"/"khỏe"); a syllable carries one tone, so
    two spellings with the same letters and the same tone anywhere in the syllable are equal;
  - "Đ" typed as the look-alike "Ð" (U+00D0, Icelandic eth), and "đ" as "ð".
Any other difference (another letter, another tone, a missing circumflex or horn) stays a
difference.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 100

TONE_MARKS = frozenset({"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"})
"""Huyền, sắc, ngã, hỏi, nặng as combining marks (after NFD). Circumflex, breve and horn are
part of the vowel letter, not tones, and stay where they are."""

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # arabic letter mark, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u034f")
"""Zero-width space/joiners, word joiner, BOM, Mongolian vowel separator, soft hyphen, CGJ."""

NAME_PUNCTUATION = frozenset("'’-.")
"""Apostrophes and hyphens occur in names of ethnic minorities ("H'Hen Niê") and foreign names.
Digits are let through (registry extracts carry "Nguyễn Văn An 2" style disambiguations);
symbols, emoji and other punctuation are not."""

_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})


class InvalidName(ValueError):
    """A name that cannot be accepted; `kind` is the error type reported to the portal."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _problem(char: str) -> tuple[str, str] | None:
    category = unicodedata.category(char)
    if category == "Cc":
        return "name_control_character", "must not contain control characters"
    if char in BIDI_CONTROLS:
        return "name_bidi_control", "must not contain text-direction controls"
    if char in ZERO_WIDTH or category == "Cf":
        return "name_invisible_character", "must not contain invisible (zero-width or format) characters"
    if category in {"Cs", "Co", "Cn", "Zl", "Zp"}:
        return "name_invalid_character", "contains a character that is not part of a name"
    if category[0] in {"L", "M"} or category in {"Zs", "Nd"} or char in NAME_PUNCTUATION:
        return None
    return "name_invalid_character", "may contain only letters, digits, spaces, apostrophes, hyphens and dots"


def clean_name(value: str) -> str:
    """The name as stored: NFC, single spaces; InvalidName says what is wrong, never the value.

    Characters are judged before spaces are collapsed, so a control that Python counts as
    white space (U+0085, U+001C…) is refused rather than silently turned into a space."""
    for char in value:
        problem = _problem(char)
        if problem is not None:
            raise InvalidName(*problem)
    cleaned = " ".join(unicodedata.normalize("NFC", value).split())
    if not cleaned:
        raise InvalidName("name_empty", "must not be empty")
    if not any(unicodedata.category(c).startswith("L") for c in cleaned):
        raise InvalidName("name_no_letter", "must contain at least one letter")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName("name_too_long", f"must be at most {MAX_NAME_LENGTH} characters")
    return cleaned


def _syllable_key(syllable: str) -> str:
    """The syllable's letters with its tone moved to the end, so placement does not count."""
    decomposed = unicodedata.normalize("NFD", syllable)
    letters = "".join(c for c in decomposed if c not in TONE_MARKS)
    tones = "".join(sorted(c for c in decomposed if c in TONE_MARKS))
    return unicodedata.normalize("NFC", letters) + tones


def name_key(name: str) -> str:
    """What two spellings of one name share (see the module docstring for what is forgiven)."""
    folded = unicodedata.normalize("NFC", name).translate(_LOOKALIKES).casefold()
    return " ".join(_syllable_key(syllable) for syllable in folded.split())


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)
