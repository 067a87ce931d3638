"""Expected rows written as small tables, not dict literals.

    rows('''
        vacancy_id     | opened_on  | state      | days_to_fill
        P2@2023-02-15  | 2023-02-15 | filled     | 75
        P14@2024-03-04 | 2024-03-04 | no_request |
    ''')

The first line names the columns; each cell is typed by its text: empty is None,
``true``/``false`` booleans, whole numbers ints, decimals floats, ``YYYY-MM-DD`` dates,
anything else text. A ``#`` starts a comment to the end of the line.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^-?\d+$")
_FLOAT = re.compile(r"^-?\d+\.\d*$")


def cell(text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if _DATE.match(text):
        return date.fromisoformat(text)
    return text


def rows(table: str, typed: bool = True) -> list[dict[str, Any]]:
    """The table's rows by column name; with ``typed=False`` every cell stays its text
    (as a file would carry it), stripped."""
    lines = [line.split("#", 1)[0].rstrip() for line in table.strip().splitlines()]
    lines = [line for line in lines if line.strip()]
    header = [name.strip() for name in lines[0].split("|")]
    found = []
    for line in lines[1:]:
        cells = line.split("|")
        if len(cells) != len(header):
            raise ValueError(f"{len(cells)} cells where the header has {len(header)}: {line}")
        read = cell if typed else str.strip
        found.append({name: read(value) for name, value in zip(header, cells, strict=True)})
    return found
