"""Reading the small CSV data files (emission factors, meteorology, forecasts) as text.

One place turns the ways such a file can be unreadable into an :class:`InputError`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.errors import InputError


def read_text_csv(path: Path, header_fix: str) -> pd.DataFrame:
    """Every cell as text, header names stripped; an undecodable, empty or malformed file is
    an InputError (``header_fix`` says what an empty file should hold)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, None, "the file is not UTF-8 text.", "save it as CSV UTF-8.") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "the file is empty.", header_fix) from None
    except pd.errors.ParserError as exc:
        raise InputError(path, None, f"the CSV cannot be parsed ({str(exc).strip()}).", "check the commas and quote cells that contain commas.") from None
    table.columns = [str(c).strip() for c in table.columns]
    return table
