"""HRIS roster snapshots: one row per employee per snapshot (sources.md, roster)."""

from __future__ import annotations

from rxstaff.transforms.source import Source, columns, named

ROSTER = Source(
    "roster", folder="roster", pattern=named("roster_"), suite="roster.json", table="stg_roster",
    key_column="employee_id", snapshot=True,
    columns=columns("""
        snapshot_date       date
        employee_id         key
        first_name          personal  optional
        last_name           personal  optional
        work_email          personal  optional
        position_id         id
        job_code            code
        job_effective_date  date
        department          text      nullable
        pharmacy_model      code
        employment_status   code
        hire_date           date
        termination_date    date      nullable
        termination_type    code      nullable
        fte                 number
        supervisor_id       key       nullable
    """),
)  # fmt: skip
