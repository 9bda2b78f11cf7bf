"""SLA policies: the targets of each SLA class, held as versioned data.

A policy is stored with the clocks it produced (``policy_to_dict`` for a JSONB
column), so a report keeps the targets it was received under when the defaults
change: a new version is a new row, never an edit of an old one.

Default targets (version 1, from the product design):

=========  ========  ==========  ============  ===================================
class      calendar  TRIAGE      ACCEPT        RESOLVE
=========  ========  ==========  ============  ===================================
urgent     24x7      15 minutes  1 hour        1 day (24:00 of the next day)
fix_now    business  1 w. hour   8 w. hours    3 working days
normal     business  1 w. hour   8 w. hours    10 working days
complex    business  1 w. hour   8 w. hours    15 working days (+1 extension of 15)
=========  ========  ==========  ============  ===================================

UNIT_RESOLVE (the assigned unit's own clock) has no column of its own in the
design; it is measured against the RESOLVE target, counted from the assignment.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.sla.calendar import AlwaysOpenCalendar, BusinessCalendar

__all__ = [
    "CALENDAR_KINDS",
    "DEFAULT_POLICIES",
    "SlaPolicy",
    "TARGET_UNITS",
    "Target",
    "calendar_kind",
    "due",
    "policy_from_dict",
    "policy_to_dict",
    "target_from_dict",
    "target_to_dict",
]

TARGET_UNITS = ("minutes", "hours", "days")
CALENDAR_KINDS = ("business", "24x7")
_SECONDS_PER_UNIT = {"minutes": 60, "hours": 3600}

Calendar = BusinessCalendar | AlwaysOpenCalendar


@dataclass(frozen=True)
class Target:
    """An amount of working time: minutes or hours of shift time, or working days.

    Days follow the calendar's civil-code rule (due at 24:00, day of receipt
    not counted), so they cannot be fractional.
    """

    amount: int | float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in TARGET_UNITS:
            raise ValueError(f"target unit must be one of {TARGET_UNITS}, got {self.unit!r}")
        amount = self.amount
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            raise TypeError(f"target amount must be a number, got {amount!r}")
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"target amount must be a finite number > 0, got {amount!r}")
        if self.unit == "days" and not isinstance(amount, int):
            # JSON hands back 15.0 for 15; only a whole float is accepted.
            if not float(amount).is_integer():
                raise ValueError(f"a target in days must be a whole number, got {amount!r}")
            object.__setattr__(self, "amount", int(amount))

    @property
    def in_days(self) -> bool:
        return self.unit == "days"

    @property
    def seconds(self) -> float:
        """Working seconds of a minutes/hours target (days have no fixed length)."""
        if self.unit == "days":
            raise ValueError("a target in days has no fixed number of seconds")
        return self.amount * _SECONDS_PER_UNIT[self.unit]

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"


_CLOCK_TARGETS = {
    "triage": "triage",
    "accept": "accept",
    "resolve": "resolve",
    # The design gives the unit no separate target: it gets the citizen's one.
    "unit_resolve": "resolve",
}


@dataclass(frozen=True)
class SlaPolicy:
    sla_class: str
    version: int
    calendar: str
    triage: Target
    accept: Target
    resolve: Target
    extension: Target | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sla_class, str) or not self.sla_class.strip():
            raise ValueError("sla_class must be a non-empty string")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version must be an int >= 1, got {self.version!r}")
        if self.calendar not in CALENDAR_KINDS:
            raise ValueError(f"calendar must be one of {CALENDAR_KINDS}, got {self.calendar!r}")
        for name in ("triage", "accept", "resolve"):
            if not isinstance(getattr(self, name), Target):
                raise TypeError(f"{name} must be a Target")
        if self.extension is not None:
            if not isinstance(self.extension, Target):
                raise TypeError("extension must be a Target or None")
            # An extension of working days on an hours deadline (or the reverse)
            # would leave the due time neither end-of-day nor exact.
            if self.extension.in_days != self.resolve.in_days:
                raise ValueError("extension must be counted in days exactly when resolve is")

    def target_for(self, kind: str) -> Target:
        """The target of a clock kind (TRIAGE, ACCEPT, RESOLVE, UNIT_RESOLVE; any case)."""
        try:
            return getattr(self, _CLOCK_TARGETS[str(kind).lower()])
        except KeyError:
            raise ValueError(f"unknown clock kind {kind!r}") from None


def _business(sla_class: str, resolve_days: int, extension_days: int | None = None) -> SlaPolicy:
    return SlaPolicy(
        sla_class=sla_class, version=1, calendar="business",
        triage=Target(1, "hours"), accept=Target(8, "hours"),
        resolve=Target(resolve_days, "days"),
        extension=Target(extension_days, "days") if extension_days else None,
    )


DEFAULT_POLICIES: dict[str, SlaPolicy] = {
    "urgent": SlaPolicy(
        sla_class="urgent", version=1, calendar="24x7",
        triage=Target(15, "minutes"), accept=Target(1, "hours"),
        resolve=Target(1, "days"),
    ),
    "fix_now": _business("fix_now", 3),
    "normal": _business("normal", 10),
    "complex": _business("complex", 15, extension_days=15),
}


def calendar_kind(calendar: Calendar) -> str:
    """"24x7" or "business": the policy calendar a calendar object implements."""
    if isinstance(calendar, AlwaysOpenCalendar):
        return "24x7"
    if isinstance(calendar, BusinessCalendar):
        return "business"
    raise TypeError(f"expected a BusinessCalendar or AlwaysOpenCalendar, got {type(calendar).__name__}")


def due(calendar: Calendar, start: datetime, target: Target) -> datetime:
    """When ``target`` runs out for a clock started at ``start``, as aware UTC."""
    if not isinstance(target, Target):
        raise TypeError("target must be a Target")
    if target.in_days:
        return calendar.add_working_days(start, target.amount)
    return calendar.add_working_seconds(start, target.seconds)


def target_to_dict(target: Target) -> dict[str, Any]:
    return {"amount": target.amount, "unit": target.unit}


def target_from_dict(data: Mapping[str, Any]) -> Target:
    if not isinstance(data, Mapping):
        raise TypeError(f"a target must be an object, got {data!r}")
    extra = set(data) - {"amount", "unit"}
    if extra:
        raise ValueError(f"unknown target keys: {sorted(extra)}")
    try:
        return Target(data["amount"], data["unit"])
    except KeyError as exc:
        raise ValueError(f"target is missing {exc.args[0]!r}") from None


_POLICY_KEYS = ("sla_class", "version", "calendar", "triage", "accept", "resolve", "extension")


def policy_to_dict(policy: SlaPolicy) -> dict[str, Any]:
    """A JSON-ready dict; ``policy_from_dict`` reads it back to an equal policy."""
    return {
        "sla_class": policy.sla_class,
        "version": policy.version,
        "calendar": policy.calendar,
        "triage": target_to_dict(policy.triage),
        "accept": target_to_dict(policy.accept),
        "resolve": target_to_dict(policy.resolve),
        "extension": None if policy.extension is None else target_to_dict(policy.extension),
    }


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    if not isinstance(data, Mapping):
        raise TypeError(f"a policy must be an object, got {type(data).__name__}")
    # A misspelt key in hand-edited policy data must fail loudly, not be
    # silently replaced by a default.
    extra = set(data) - set(_POLICY_KEYS)
    if extra:
        raise ValueError(f"unknown policy keys: {sorted(extra)}")
    missing = [k for k in _POLICY_KEYS[:-1] if k not in data]
    if missing:
        raise ValueError(f"policy is missing {missing}")
    extension = data.get("extension")
    return SlaPolicy(
        sla_class=data["sla_class"],
        version=data["version"],
        calendar=data["calendar"],
        triage=target_from_dict(data["triage"]),
        accept=target_from_dict(data["accept"]),
        resolve=target_from_dict(data["resolve"]),
        extension=None if extension is None else target_from_dict(extension),
    )
