"""Position-control budget releases: one row per change of a release (sources.md, budget)."""

from __future__ import annotations

import re

import pandas as pd

from rxstaff.transforms.casting import to_date, to_float, to_timestamp
from rxstaff.transforms.source import FILE_NO, Column, Reference, Source

COLUMNS = (
    Column("release_id", "id"),
    Column("position_id", "id"),
    Column("action", "code"),
    Column("job_code", "code"),
    Column("pharmacy_model", "code"),
    Column("fte", "number"),
    Column("annual_amount", "number"),
    Column("requested_date", "date"),
    Column("released_date", "date"),
    Column("status", "code"),
    Column("record_updated_at", "timestamp"),
)
TEXT_COLUMNS = ["release_id", "position_id", "action", "job_code", "pharmacy_model", "status"]


def stage_releases(rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """``stg_budget_release``: typed rows, each with the date its file was exported."""
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    staged["file_date"] = to_date(rows["_file_date"])
    for column in TEXT_COLUMNS:
        staged[column] = rows[column].astype("string")
    staged["fte"] = to_float(rows["fte"])
    staged["annual_amount"] = to_float(rows["annual_amount"]).round(2)
    staged["requested_date"] = to_date(rows["requested_date"])
    staged["released_date"] = to_date(rows["released_date"])
    staged["record_updated_at"] = to_timestamp(rows["record_updated_at"])
    staged[FILE_NO] = rows[FILE_NO].to_numpy()
    return {"stg_budget_release": staged.reset_index(drop=True)}


BUDGET = Source(
    name="budget",
    folder="budget",
    pattern=re.compile(r"^budget_releases_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="budget_release.json",
    columns=COLUMNS,
    stage=stage_releases,
    tables=("stg_budget_release",),
)
