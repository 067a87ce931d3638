"""Position-control budget releases: one staging row per change of a release."""

from __future__ import annotations

import pandas as pd

from rxstaff.transforms.casting import to_date, to_float, to_timestamp

STAGED_COLUMNS = [
    "row_number",
    "release_id",
    "position_id",
    "action",
    "job_code",
    "pharmacy_model",
    "fte",
    "annual_amount",
    "requested_date",
    "released_date",
    "status",
    "record_updated_at",
]
CAST_CHECKS = [
    ("requested_date", "date"),
    ("released_date", "date"),
    ("record_updated_at", "timestamp"),
]
TEXT_COLUMNS = ["release_id", "position_id", "action", "job_code", "pharmacy_model", "status"]


def stage_releases(rows: pd.DataFrame) -> pd.DataFrame:
    """Typed staging rows from validated budget rows (with their row_number)."""
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    for column in TEXT_COLUMNS:
        staged[column] = rows[column].astype("string")
    staged["fte"] = to_float(rows["fte"])
    staged["annual_amount"] = to_float(rows["annual_amount"]).round(2)
    staged["requested_date"] = to_date(rows["requested_date"])
    staged["released_date"] = to_date(rows["released_date"])
    staged["record_updated_at"] = to_timestamp(rows["record_updated_at"])
    return staged[STAGED_COLUMNS].reset_index(drop=True)
