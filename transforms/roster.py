"""HRIS roster snapshots: staging rows, one per employee per snapshot."""

from __future__ import annotations

import pandas as pd

from rxstaff.transforms.casting import to_date, to_float
from rxstaff.transforms.pseudonym import Pseudonymiser

DATE_COLUMNS = ["snapshot_date", "job_effective_date", "hire_date", "termination_date"]
CAST_CHECKS = [(column, "date") for column in DATE_COLUMNS]
TEXT_COLUMNS = [
    "position_id",
    "job_code",
    "department",
    "pharmacy_model",
    "employment_status",
    "termination_type",
]
STAGED_COLUMNS = [
    "row_number",
    "snapshot_date",
    "employee_key",
    "position_id",
    "job_code",
    "job_effective_date",
    "department",
    "pharmacy_model",
    "employment_status",
    "hire_date",
    "termination_date",
    "termination_type",
    "fte",
    "supervisor_key",
]


def stage_roster(rows: pd.DataFrame, pseudonyms: Pseudonymiser) -> pd.DataFrame:
    """Typed staging rows from validated roster rows (with their row_number)."""
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    for column in DATE_COLUMNS:
        staged[column] = to_date(rows[column])
    staged["employee_key"] = pseudonyms.keys(rows["employee_id"])
    staged["supervisor_key"] = pseudonyms.keys(rows["supervisor_id"])
    for column in TEXT_COLUMNS:
        staged[column] = rows[column].astype("string")
    staged["fte"] = to_float(rows["fte"])
    return staged[STAGED_COLUMNS].reset_index(drop=True)
