"""Position-control budget releases: one row per change of a release (sources.md, budget)."""

from __future__ import annotations

import re

from rxstaff.transforms.source import Bound, Column, Source

BUDGET = Source(
    name="budget",
    folder="budget",
    pattern=re.compile(r"^budget_releases_(\d{4}-\d{2}-\d{2})\.csv$", re.IGNORECASE),
    suite="budget_release.json",
    columns=(
        Column("release_id", "id"),
        Column("position_id", "id"),
        Column("action", "code"),
        Column("job_code", "code"),
        Column("pharmacy_model", "code", nullable=True),
        Column("fte", "number", nullable=True),
        Column("annual_amount", "money", nullable=True),
        Column("requested_date", "date"),
        Column("released_date", "date", nullable=True),
        Column("status", "code"),
        Column("record_updated_at", "timestamp"),
    ),
    table="stg_budget_release",
    bound=(Bound("file_date", "_file_date", "date"),),  # the day the changes were exported
)
