"""Learning-system training records: one row per change of a record (sources.md v2)."""

from __future__ import annotations

from rxstaff.transforms.source import Bound, Source, columns, named

TRAINING = Source(
    "training", folder="training", pattern=named("training_records_"),
    suite="training_record.json", table="stg_training_record",
    bound=(Bound("file_date", "_file_date", "date"),), key_column="employee_id", optional=True,
    notes="The learning system's assignments created or changed that day; optional.",
    columns=columns("""
        record_id           id
        employee_id         key
        course_id           code
        course_title        text       nullable
        job_code            code       nullable
        required            flag
        assigned_on         date
        completed_on        date       nullable
        hours               number     nullable
        status              code
        record_updated_at   timestamp
    """),
)  # fmt: skip
