"""Tracking codes ``PA-YYYY-NNNNNN`` typed any way ("pa2026004512", "PA 2026 4512")."""
from __future__ import annotations

import re

_TYPED = re.compile(r"^\s*PA[\s._-]*(\d{4})[\s._-]*(\d{1,6})\s*$", re.IGNORECASE)
_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])PA[\s._-]*\d{4}[\s._-]*\d{1,6}(?!\d)", re.IGNORECASE)


def canonical(typed: str | None) -> str | None:
    """The canonical code for what a person typed, or None when it is not one."""
    match = _TYPED.match(typed or "")
    if not match:
        return None
    return f"PA-{int(match.group(1)):04d}-{int(match.group(2)):06d}"


def find_in_text(text: str | None) -> str | None:
    """The first code written anywhere in a message (when the NLU tagged none)."""
    match = _IN_TEXT.search(text or "")
    return canonical(match.group(0)) if match else None
