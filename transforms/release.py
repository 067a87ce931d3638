"""Position-control budget releases: one row per change of a release (sources.md, budget)."""

from __future__ import annotations

from rxstaff.transforms.source import Bound, Source, columns, named

# A file holds the changes exported that day: each row carries its file's date.
BUDGET = Source(
    "budget", folder="budget", pattern=named("budget_releases_"), suite="budget_release.json",
    table="stg_budget_release", bound=(Bound("file_date", "_file_date", "date"),),
    columns=columns("""
        release_id          id
        position_id         id
        action              code
        job_code            code
        pharmacy_model      code       nullable
        fte                 number     nullable
        annual_amount       money      nullable
        requested_date      date
        released_date       date       nullable
        status              code
        record_updated_at   timestamp
    """),
)  # fmt: skip
