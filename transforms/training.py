"""Learning-system training records: one row per change of a record (sources.md v2)."""

from __future__ import annotations

import re

from rxstaff.transforms.source import Bound, Column, Source

TRAINING = Source(
    name="training",
    folder="training",
    pattern=re.compile(r"^training_records_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="training_record.json",
    columns=(
        Column("record_id", "id"),
        Column("employee_id", "key"),
        Column("course_id", "code"),
        Column("course_title", "text", nullable=True),
        Column("job_code", "code", nullable=True),
        Column("required", "flag"),
        Column("assigned_on", "date"),
        Column("completed_on", "date", nullable=True),
        Column("hours", "number", nullable=True),
        Column("status", "code"),
        Column("record_updated_at", "timestamp"),
    ),
    table="stg_training_record",
    bound=(Bound("file_date", "_file_date", "date"),),
    key_column="employee_id",
    optional=True,
    notes="The learning system's assignments created or changed that day; optional.",
)
