"""HRIS roster snapshots: one row per employee per snapshot (sources.md, roster)."""

from __future__ import annotations

import re

from rxstaff.transforms.source import Column, Source

ROSTER = Source(
    name="roster",
    folder="roster",
    pattern=re.compile(r"^roster_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="roster.json",
    columns=(
        Column("snapshot_date", "date"),
        Column("employee_id", "key"),
        Column("first_name", "personal", required=False),
        Column("last_name", "personal", required=False),
        Column("work_email", "personal", required=False),
        Column("position_id", "id"),
        Column("job_code", "code"),
        Column("job_effective_date", "date"),
        Column("department", "text", nullable=True),
        Column("pharmacy_model", "code"),
        Column("employment_status", "code"),
        Column("hire_date", "date"),
        Column("termination_date", "date", nullable=True),
        Column("termination_type", "code", nullable=True),
        Column("fte", "number"),
        Column("supervisor_id", "key", nullable=True),
    ),
    table="stg_roster",
    key_column="employee_id",
)
