"""Values as JSON text, the same whichever database returned them.

DuckDB and PostgreSQL hand back the same figure as different Python types (a NUMERIC is a
``Decimal`` from one, a ``float`` from the other); the audit trail stores text that must
compare equal across nights and engines, so each value is brought to one form first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# More digits than any published figure has (rates to 4 decimals, days to 1); fewer than
# the float noise of a division (104.60000000000001).
DIGITS = 9


def plain(value: Any) -> Any:
    """One JSON-ready form per value: numbers without noise, days as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal | float):
        number = float(value)
        if math.isnan(number):
            return None
        rounded = round(number, DIGITS)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        return plain(value.item())
    return str(value)


def as_json(values: Mapping[str, Any]) -> str:
    """The mapping as compact JSON text, in its own key order."""
    return json.dumps({k: plain(v) for k, v in values.items()}, separators=(", ", ": "))


def value_text(value: Any) -> str | None:
    """One value as JSON text (null stays SQL NULL)."""
    return None if value is None else json.dumps(plain(value))
