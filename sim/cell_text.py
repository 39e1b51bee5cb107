"""Text from user files written into spreadsheets: never as a formula.

A list's enterprise name such as ``=HYPERLINK("http://x","y")`` would otherwise become a live
formula when ``measures.csv`` is opened in a spreadsheet (CSV injection, OWASP). The CSV writers
prefix such text with a single quote, as OWASP recommends; the workbook stores it as a string
cell (see ``sim.report.excel._cell``). Only text is touched: numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

#: Leading characters that make a spreadsheet read a cell as a formula (tab and carriage
#: return too: some programs strip them and then see the formula behind).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: The same, as a regular expression anchored at the start (for vectorised writers).
FORMULA_PATTERN = "^[=+\\-@\t\r]"


def looks_like_formula(value: Any) -> bool:
    """True for text that a spreadsheet would read as a formula; False for anything else,
    numbers included."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def escape_formula(value: Any) -> Any:
    """``'`` + text for formula-like text, anything else unchanged (``-1.5`` the number stays,
    ``"-5"`` the text becomes ``"'-5"``)."""
    return "'" + value if looks_like_formula(value) else value


def escape_text_columns(frame: Any) -> Any:
    """A copy of a pandas frame whose text (object or string) columns are escaped; numeric,
    boolean and time columns are left alone."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype):
            out[name] = column.map(escape_formula)
    return out
