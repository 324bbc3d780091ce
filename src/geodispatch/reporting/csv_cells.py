"""CSV that spreadsheets read as data: no cell a person typed can start a formula.

Excel, LibreOffice Calc and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` (and, after a tab or carriage return, what follows) as a formula: an address
typed as ``=cmd|' /C calc'!A0`` becomes a command on the manager's computer. Following
OWASP's advice on CSV injection, such a text cell is written with a leading ``'``, which
the spreadsheet shows as the text. Numbers (a negative count or coordinate) are left as
numbers; the csv writer quotes separators and quotes, so no text can start a new cell.
"""

from __future__ import annotations

from typing import Any, Final

import pandas as pd

__all__ = ["FORMULA_START", "inert_cell", "inert_csv"]

#: What a spreadsheet reads as the start of a formula (OWASP, CSV injection).
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run; else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def inert_csv(frame: pd.DataFrame, **to_csv: Any) -> str:
    """``frame.to_csv(**to_csv)`` as text, every text cell and column name made inert."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            safe[column] = values.map(inert_cell)
    safe.columns = [inert_cell(c) for c in safe.columns]
    text: str = safe.to_csv(**to_csv)
    return text
