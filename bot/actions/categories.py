"""Guessing a report's category from the citizen's words.

The API's categories carry keywords in both spellings ("ổ gà", "o ga"); we fold the text
and each keyword and count whole-word matches, longer keywords weighing more. One clear
winner fills the slot; otherwise the citizen picks from buttons.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from actions import api_client
from actions.language import fold

_CACHE_SECONDS = 600
_cache: tuple[float, list["Category"]] | None = None
# Offered when the words match nothing: the most frequent kinds of report.
COMMON = ("pothole", "streetlight_out", "garbage_uncollected", "flooding", "sidewalk_encroachment",
          "fallen_tree")


@dataclass(frozen=True)
class Category:
    code: str
    name_vi: str
    name_en: str
    keywords: tuple[str, ...]   # folded

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_vi


def from_tree(tree: dict) -> list[Category]:
    out = []
    for group in tree.get("groups") or []:
        for item in group.get("categories") or []:
            words = {fold(k) for k in item.get("keywords") or []}
            words |= {fold(item.get("name_vi") or ""), fold(item.get("name_en") or "")}
            out.append(Category(item["code"], item.get("name_vi") or item["code"],
                                item.get("name_en") or "", tuple(sorted(w for w in words if w))))
    return out


async def load() -> list[Category]:
    """The active categories (cached for ten minutes; the list changes rarely)."""
    global _cache
    now = time.monotonic()
    if _cache is not None and now - _cache[0] < _CACHE_SECONDS:
        return _cache[1]
    categories = from_tree(await api_client.get("/api/v1/categories"))
    _cache = (now, categories)
    return categories


def forget() -> None:
    global _cache
    _cache = None


def _score(text: str, category: Category) -> int:
    score = 0
    for word in category.keywords:
        if re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", text):
            score += len(word)
    return score


def rank(text: str, categories: list[Category]) -> list[tuple[Category, int]]:
    """Categories whose keywords occur in the text, best first."""
    folded = fold(text)
    scored = [(c, _score(folded, c)) for c in categories]
    return sorted(((c, s) for c, s in scored if s > 0), key=lambda cs: -cs[1])


def clear_winner(ranked: list[tuple[Category, int]]) -> Category | None:
    """The top category when it clearly beats the next one (half again as much evidence)."""
    if not ranked:
        return None
    if len(ranked) == 1 or ranked[0][1] >= 1.5 * ranked[1][1]:
        return ranked[0][0]
    return None


def by_choice(text: str, categories: list[Category]) -> Category | None:
    """A category the citizen picked: its code (button) or its name typed out."""
    folded = fold(text)
    for category in categories:
        if folded in (category.code, fold(category.name_vi), fold(category.name_en)):
            return category
    return None


def choices(ranked: list[tuple[Category, int]], categories: list[Category], size: int = 4) -> list[Category]:
    picked = [c for c, _ in ranked[:size]]
    if picked:
        return picked
    by_code = {c.code: c for c in categories}
    return [by_code[code] for code in COMMON if code in by_code]
