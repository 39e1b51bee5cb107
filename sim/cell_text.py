"""What a cell of a written table holds: text from user files never as a formula, numbers
rounded to what they mean.

A list's enterprise name such as ``=HYPERLINK("http://x","y")`` would otherwise become a live
formula when ``measures.csv`` is opened in a spreadsheet (CSV injection, OWASP). The CSV writers
prefix such text with a single quote, as OWASP recommends; the workbook stores it as a string
cell (see ``sim.report.excel._cell``). Only text is touched: numbers stay numbers.

Floats are written to :data:`SIGNIFICANT_DIGITS` significant digits (:func:`round_significant`)
in the CSVs and the workbook alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SIGNIFICANT_DIGITS = 9

#: Leading characters that make a spreadsheet read a cell as a formula (tab and carriage
#: return too: some programs strip them and then see the formula behind).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: The same, as a regular expression anchored at the start (for vectorised writers).
FORMULA_PATTERN = "^[=+\\-@\t\r]"


def looks_like_formula(value: Any) -> bool:
    """True for text that a spreadsheet would read as a formula; False for anything else,
    numbers included."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def escape_text_columns(frame: Any) -> Any:
    """A copy of a pandas frame whose text (object or string) columns are escaped; numeric,
    boolean and time columns are left alone."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype):
            risky = column.str.match(FORMULA_PATTERN).eq(True)  # non-text cells give NaN: untouched
            out[name] = column.where(~risky, "'" + column.astype(str))
    return out


#: Exact powers of ten 10**0 ... 10**22 (every one of them is a double without error).
_POWERS_OF_TEN = 10.0 ** np.arange(23, dtype=float)


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Round to ``digits`` significant digits, so files show 4.6128, not 4.612799999999999.
    Zeros, NaN and infinities are returned as given."""
    x = np.asarray(values, dtype=float)
    rounded = x.copy()
    wanted = np.isfinite(x) & (x != 0)
    every = bool(wanted.all())  # the usual column: no zero or NaN to leave out
    v = x if every else x[wanted]
    with np.errstate(all="ignore"):  # values near the largest double overflow in the branch np.where drops
        exponent = np.floor(np.log10(np.abs(v)))
        shift = np.clip(digits - 1 - exponent, -22, 22).astype(np.int64)
        scale = _POWERS_OF_TEN[np.abs(shift)]
        # divide by an exact power of ten: the result is the double nearest the rounded decimal
        scaled = np.round(v * scale)
        scaled /= scale
        if not (shift >= 0).all():  # values of 1e9 and more: round to tens, hundreds...
            scaled = np.where(shift >= 0, scaled, np.round(v / scale) * scale)
    if every:
        return scaled
    rounded[wanted] = scaled
    return rounded
