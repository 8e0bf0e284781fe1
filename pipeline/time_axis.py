"""Time columns given as ISO 8601 dates or datetimes, turned into numbers in a documented unit.

A time column of ISO dates (``2024-01-05``) or datetimes (``2024-01-05T10:00:00``,
``2024-01-05 10:00:00+02:00``, ``...Z``) is measured from its earliest timestamp in a unit:
``s``, ``min``, ``h`` or ``d``, or ``auto``, the largest of those no longer than the median spacing
(samples every 15 minutes: ``min``; every day: ``d``). Offsets may differ between rows (a clock change):
the instants are compared in UTC. A column must be all naive or all with an offset, all dates or
datetimes (never mixed with plain numbers); the first row that breaks this is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.errors import DataError

__all__ = ["TIME_UNITS", "TimeAxis", "TimeUnit", "looks_like_datetime", "parse_datetime_column"]

TimeUnit = Literal["auto", "s", "min", "h", "d"]
TIME_UNITS: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
"""Seconds per unit, smallest first."""
UNIT_NAMES = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}

ISO_PATTERN = re.compile(
    r"^\s*\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)
"""An ISO 8601 date, or a date and time with an optional offset (``Z``, ``+02``, ``+02:00``, ``+0200``)."""


@dataclass(frozen=True)
class TimeAxis:
    """How a datetime time column became numbers: ``t = (timestamp - origin) / unit``.

    Attributes:
        unit: ``s``, ``min``, ``h`` or ``d``; derivatives and coefficients are per this unit.
        origin: the earliest timestamp, ISO 8601 (with ``+00:00`` when the column had offsets: UTC).
    """

    unit: str
    origin: str

    def describe(self, column: str) -> str:
        """``'t (hours since 2024-01-05T00:00:00)'``: how plots and reports name the time axis."""
        return f"{column} ({UNIT_NAMES[self.unit]} since {self.origin})"


def _choose_unit(seconds: np.ndarray, unit: str) -> str:
    """``unit``, or for ``auto`` the largest unit no longer than the median positive spacing."""
    if unit != "auto":
        return unit
    steps = np.diff(np.sort(seconds))
    steps = steps[steps > 0]
    median = float(np.median(steps)) if steps.size else 1.0
    return [name for name, size in TIME_UNITS.items() if size <= median][-1] if median >= 1.0 else "s"


def _check_iso(text: pd.Series, source: str, column: str) -> np.ndarray:
    """Every value matches :data:`ISO_PATTERN`; returns, per row, whether it carries an offset."""
    match = text.str.extract(ISO_PATTERN)  # one column: the zone (NaN when absent or no match)
    ok = text.str.fullmatch(ISO_PATTERN).to_numpy(dtype=bool)
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise DataError(
            f"{source}: column '{column}' has {text.iloc[row]!r} at data row {row + 1}, not an ISO 8601 date or"
            " datetime like the rows before it (expected e.g. 2024-01-05 or 2024-01-05T10:00:00, or numbers"
            " throughout)"
        )
    aware = match["zone"].notna().to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        row = int(np.flatnonzero(aware != aware[0])[0])
        row_kind, first_kind = ("without", "with") if aware[0] else ("with", "without")
        raise DataError(
            f"{source}: column '{column}' has {text.iloc[row]!r} at data row {row + 1} {row_kind} a time zone, but data"
            f" row 1 is {first_kind} (expected all datetimes with an offset or all without)"
        )
    return aware


def parse_datetime_column(
    values: pd.Series, source: str, column: str, unit: str = "auto"
) -> tuple[np.ndarray, TimeAxis]:
    """Turn ISO dates/datetimes (strings, or a datetime column of a Parquet file) into numeric times.

    Args:
        values: the column, shape (n,).
        source: the file, for messages.
        column: the column's name, for messages.
        unit: ``auto``, ``s``, ``min``, ``h`` or ``d``.

    Returns:
        (t, axis): t, shape (n,), in ``axis.unit`` since ``axis.origin`` (the earliest timestamp), so t ≥ 0.

    Raises:
        DataError: a value is missing, not ISO 8601, a date that does not exist, or naive among aware.
    """
    missing = values.isna().to_numpy(dtype=bool)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"{source}: column '{column}' is empty at data row {row + 1} (expected a date or datetime)")
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.Series(values)
    else:
        text = values.astype(str)
        aware = _check_iso(text, source, column)
        stamps = pd.to_datetime(text.str.strip(), format="ISO8601", utc=bool(aware.any()), errors="coerce")
        bad = stamps.isna().to_numpy(dtype=bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{source}: column '{column}' has {text.iloc[row]!r} at data row {row + 1}, not a valid date or time"
            )
    origin = stamps.min()
    seconds = ((stamps - origin) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    chosen = _choose_unit(seconds, unit)
    return seconds / TIME_UNITS[chosen], TimeAxis(unit=chosen, origin=origin.isoformat())


def looks_like_datetime(values: pd.Series) -> bool:
    """Whether a time column is meant as dates: a datetime dtype, or a first value that is an ISO date."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if pd.api.types.is_numeric_dtype(values) or values.empty:
        return False
    first = values.dropna()
    return bool(first.size) and ISO_PATTERN.fullmatch(str(first.iloc[0])) is not None
