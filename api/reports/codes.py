"""Tracking codes ``PA-YYYY-NNNNNN``: one sequence per year, typed any way.

Citizens read codes over the phone and type them into chat without dashes
(``pa2026004512``) or with spaces (``PA 2026 004512``): all are accepted.
A PostgreSQL sequence per year hands out numbers without row locks, so
concurrent submissions never queue on a counter (gaps after a rollback are
acceptable; the code is an identifier, not a count).
"""
from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

PREFIX = "PA"
_TYPED = re.compile(r"^\s*PA[\s._-]*(\d{4})[\s._-]*(\d{1,6})\s*$", re.IGNORECASE)


def format_code(year: int, number: int) -> str:
    return f"{PREFIX}-{year:04d}-{number:06d}"


def parse_code(typed: str) -> str | None:
    """The canonical code for what a person typed, or None when it is not one."""
    match = _TYPED.match(typed or "")
    if not match:
        return None
    return format_code(int(match.group(1)), int(match.group(2)))


def _sequence(year: int) -> str:
    return f"report_code_seq_{year:04d}"


def next_code(session: Session, year: int) -> str:
    name = _sequence(year)
    savepoint = session.begin_nested()
    try:
        number = session.execute(text(f"SELECT nextval('{name}')")).scalar_one()
        savepoint.commit()
    except ProgrammingError:
        # First report of the year: create the sequence (racing creators are harmless).
        savepoint.rollback()
        session.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} MAXVALUE 999999"))
        number = session.execute(text(f"SELECT nextval('{name}')")).scalar_one()
    return format_code(year, number)
