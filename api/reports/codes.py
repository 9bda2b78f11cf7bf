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
from sqlalchemy.exc import IntegrityError, ProgrammingError
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




def create_sequence_sql(year: int) -> str:
    return f"CREATE SEQUENCE IF NOT EXISTS {_sequence(year)} MAXVALUE 999999"


def _create_sequence(session: Session, year: int) -> None:
    """Create a year's sequence outside the caller's transaction.

    Committed at once, so concurrent first reports of a year all see it; two
    creators racing on the catalogue is harmless (the loser's error is ignored).
    """
    engine = session.get_bind().engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        try:
            conn.execute(text(create_sequence_sql(year)))
        except (IntegrityError, ProgrammingError):
            pass


PRECREATED_YEARS = range(2024, 2046)  # migration 0001


def next_code(session: Session, year: int) -> str:
    name = _sequence(year)
    if year in PRECREATED_YEARS:
        return format_code(year, session.execute(text(f"SELECT nextval('{name}')")).scalar_one())
    savepoint = session.begin_nested()
    try:
        number = session.execute(text(f"SELECT nextval('{name}')")).scalar_one()
        savepoint.commit()
    except ProgrammingError:
        # A year beyond the pre-created range.
        savepoint.rollback()
        _create_sequence(session, year)
        number = session.execute(text(f"SELECT nextval('{name}')")).scalar_one()
    return format_code(year, number)
