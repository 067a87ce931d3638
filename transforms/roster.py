"""HRIS roster snapshots: one row per employee per snapshot (sources.md, roster)."""

from __future__ import annotations

import re

import pandas as pd

from rxstaff.transforms.casting import to_date, to_float
from rxstaff.transforms.source import FILE_NO, Column, Reference, Source

COLUMNS = (
    Column("snapshot_date", "date"),
    Column("employee_id", "id"),
    Column("first_name", "personal", required=False),
    Column("last_name", "personal", required=False),
    Column("work_email", "personal", required=False),
    Column("position_id", "id"),
    Column("job_code", "code"),
    Column("job_effective_date", "date"),
    Column("department", "text"),
    Column("pharmacy_model", "code"),
    Column("employment_status", "code"),
    Column("hire_date", "date"),
    Column("termination_date", "date"),
    Column("termination_type", "code"),
    Column("fte", "number"),
    Column("supervisor_id", "id"),
)
TEXT_COLUMNS = [
    "position_id",
    "job_code",
    "department",
    "pharmacy_model",
    "employment_status",
    "termination_type",
]


def stage_roster(rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """``stg_roster``: typed rows, ids replaced by their keyed hashes."""
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    for column, _kind in ROSTER.calendar_columns:
        staged[column] = to_date(rows[column])
    staged["employee_key"] = ref.pseudonyms.keys(rows["employee_id"])
    staged["supervisor_key"] = ref.pseudonyms.keys(rows["supervisor_id"])
    for column in TEXT_COLUMNS:
        staged[column] = rows[column].astype("string")
    staged["fte"] = to_float(rows["fte"])
    staged[FILE_NO] = rows[FILE_NO].to_numpy()
    return {"stg_roster": staged.reset_index(drop=True)}


ROSTER = Source(
    name="roster",
    folder="roster",
    pattern=re.compile(r"^roster_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="roster.json",
    columns=COLUMNS,
    stage=stage_roster,
    tables=("stg_roster",),
    key_column="employee_id",
)
