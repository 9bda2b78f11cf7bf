"""Vietnamese text: store NFC, compare and search on folded forms.

Many citizens type without diacritics ("den duong hong"), so every lookup
compares folded text: NFC → lowercase → marks dropped → đ→d → spaces squeezed.
"""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Characters that are never meaningful in user text and break display.
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\ufeff]")


def nfc(text: str) -> str:
    """NFC-normalise and drop invisible control characters (keeps newlines/tabs)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text))


def clean(text: str | None) -> str | None:
    """NFC plus trimmed; empty becomes None."""
    if text is None:
        return None
    text = nfc(text).strip()
    return text or None


def fold(text: str) -> str:
    """Lowercase, diacritic-free, đ→d, single-spaced: the form we match on."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    stripped = stripped.replace("đ", "d").replace("Đ", "d")
    return _SPACES.sub(" ", stripped).strip()
