"""Dates and times as the simulator reads them, in scenario files and in CSV time columns.

Accepted: ISO 8601 local time (``2024-12-08``, ``2024-12-08T06:00``, ``2024-12-08 06:00``,
seconds optional) and the same with slashes, year first (``2024/12/08 06:00``, common in
Chinese spreadsheets). Refused: forms with the day or month first (``08/12/2024`` is 8 December
in China and Europe, 12 August in the US: pandas silently reads it month first), a time zone
(every time is local), and anything else pandas would guess at (``20241208``, ``Dec 8``).
"""

from __future__ import annotations

import re

import pandas as pd

#: The one fix for any date that cannot be read.
DATE_FIX = "write dates as YYYY-MM-DD and times as YYYY-MM-DDTHH:MM (local time), e.g. 2023-12-01T00:00."

_ACCEPTED = re.compile(r"\d{4}(?P<sep>[-/])\d{1,2}(?P=sep)\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")
_SHORT_YEAR_LAST = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:[T ].*)?")
_ZONE = re.compile(r".*\d:\d{2}(?::\d{2}(?:\.\d+)?)? ?(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)")


def date_problem(text: str, noun: str = "date or date-time") -> str:
    """Why ``text`` is not an accepted ``noun`` (for an error message)."""
    text = text.strip()
    if _SHORT_YEAR_LAST.fullmatch(text):
        return f"'{text}' puts the day or month before the year; such dates are ambiguous (08/12/2024 is 8 December or 12 August)"
    if _ZONE.fullmatch(text):
        return f"'{text}' carries a time zone; times are local, without one"
    if not text:
        return f"the {noun} is empty"
    return f"'{text}' is not a {noun}"


def parse_time(text: str) -> pd.Timestamp | None:
    """The local time written as ``text``, or None when it is not in an accepted form or not a
    real date (2023-13-01)."""
    text = text.strip()
    if not _ACCEPTED.fullmatch(text):
        return None
    try:
        return pd.Timestamp(text.replace("/", "-"))
    except (ValueError, OverflowError):
        return None


def parse_times(text: pd.Series) -> pd.Series:
    """:func:`parse_time` over a column of text: datetime64, NaT where a cell is not accepted."""
    text = text.astype(str).str.strip()
    ok = text.str.fullmatch(_ACCEPTED.pattern).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(text[ok].str.replace("/", "-", regex=False), format="ISO8601", errors="coerce")
    return out


def parse_time_column(text: pd.Series) -> pd.Series:
    """:func:`parse_times` with a fast path: a column in the usual form ``YYYY-MM-DDTHH:MM`` is
    parsed strictly in one vectorised step; any other form (or a bad cell) takes the general
    reader, which accepts ISO or ``YYYY/MM/DD`` only (08/12/2024 would be read month first)."""
    parsed = pd.Series(pd.to_datetime(text, format="%Y-%m-%dT%H:%M", errors="coerce"), index=text.index)
    return parse_times(text) if parsed.isna().any() else parsed
