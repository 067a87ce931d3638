"""Learning-system training records: one row per change of a record (sources.md v2)."""

from __future__ import annotations

import re

import pandas as pd

from rxstaff.transforms.casting import to_date, to_float, to_timestamp
from rxstaff.transforms.source import FILE_NO, Column, Reference, Source

COLUMNS = (
    Column("record_id", "id"),
    Column("employee_id", "id"),
    Column("course_id", "code"),
    Column("course_title", "text"),
    Column("job_code", "code"),
    Column("required", "code"),
    Column("assigned_on", "date"),
    Column("completed_on", "date"),
    Column("hours", "number"),
    Column("status", "code"),
    Column("record_updated_at", "timestamp"),
)
TEXT_COLUMNS = ["record_id", "course_id", "course_title", "job_code", "status"]


def stage_training(rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """``stg_training_record``: typed rows, the employee id replaced by the roster's key."""
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    staged["file_date"] = to_date(rows["_file_date"])
    staged["employee_key"] = ref.pseudonyms.keys(rows["employee_id"])
    for column in TEXT_COLUMNS:
        staged[column] = rows[column].astype("string")
    staged["required"] = rows["required"].str.lower().eq("true").astype("boolean")
    staged["assigned_on"] = to_date(rows["assigned_on"])
    staged["completed_on"] = to_date(rows["completed_on"])
    staged["hours"] = to_float(rows["hours"])
    staged["record_updated_at"] = to_timestamp(rows["record_updated_at"])
    staged[FILE_NO] = rows[FILE_NO].to_numpy()
    return {"stg_training_record": staged.reset_index(drop=True)}


TRAINING = Source(
    name="training",
    folder="training",
    pattern=re.compile(r"^training_records_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="training_record.json",
    columns=COLUMNS,
    stage=stage_training,
    tables=("stg_training_record",),
    key_column="employee_id",
    optional=True,
    notes="The learning system's assignments created or changed that day; optional.",
)
