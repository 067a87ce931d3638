"""What every BI-facing relation and column means: one source for COMMENT ON and the docs.

``apply_comments`` writes these into the database (BI tools show them);
``markdown`` renders docs/data_dictionary.md. A test fails when a contract relation
or column has no description here, so the two cannot drift from the schema.
"""

from __future__ import annotations

import sqlalchemy as sa

Relation = tuple[str, str, dict[str, str]]  # (kind, description, column descriptions)

LINEAGE = {
    "source_batch_id": "etl_batch.batch_id of the file this row was read from (audit trail).",
    "source_row_number": "Data-row number in that file (1 = first row after the header).",
}

RELATIONS: dict[str, Relation] = {
    "dim_date": (
        "table",
        "One row per day from 1 January of the earliest year in the data to "
        "31 December of the latest.",
        {
            "date_day": "The day.",
            "year": "Calendar year.",
            "quarter": "Calendar quarter, 1-4.",
            "month": "Calendar month, 1-12.",
            "month_end": "True on the last day of a month.",
            "iso_week": "ISO 8601 week number.",
        },
    ),
    "dim_job": (
        "table",
        "The job catalog as loaded (reference data a health system may replace with its own).",
        {
            "job_code": "Job code used by HRIS and position control.",
            "job_title": "Job title.",
            "job_family": "Job family, e.g. Specialty Pharmacy Technician.",
            "ladder_level": "Step on the family's career ladder (1-3); null outside a ladder.",
            "grade": "Pay grade: a job change to a higher grade is a promotion.",
            "created_in_expansion": "True for the roles created in the staffing expansion.",
        },
    ),
    "dim_employee": (
        "table",
        "Employee history, slowly changing (type 2): one row per period "
        "in which job_code, position_id, pharmacy_model, department, fte and "
        "employment_status stayed the same. No names, e-mails or raw ids.",
        {
            "employee_key": "Keyed hash (HMAC-SHA256) of employee_id; stable for the same secret.",
            "job_code": "Job held in the period.",
            "position_id": "Budgeted seat held in the period.",
            "pharmacy_model": "specialty, ambulatory, mail_order, infusion or retail.",
            "department": "Department (free text from HRIS).",
            "fte": "Full-time equivalent, 0 < fte <= 1.",
            "employment_status": "active, leave or terminated.",
            "hire_date": "Latest hire date of the employment spell (a rehire resets it).",
            "valid_from": "First day of the period: the change's effective date where HRIS gives "
            "one (hire, job change, termination), else the first snapshot showing it.",
            "valid_to": "Day after the period ends (exclusive); null while current.",
            "is_current": "True for the latest known period.",
            **LINEAGE,
        },
    ),
    "fct_career_event": (
        "table",
        "One row per employment event: hire, rehire, promotion, lateral, demotion, separation.",
        {
            "event_date": "hire_date for hires, job_effective_date for job changes, "
            "termination_date for separations.",
            "employee_key": "The employee (see dim_employee).",
            "event_type": "hire, rehire, promotion (grade rises), lateral (same grade, new code or "
            "seat), demotion (grade falls), separation.",
            "from_job_code": "Job before a job change or separation.",
            "to_job_code": "Job after a hire or job change.",
            "from_position_id": "Seat left.",
            "to_position_id": "Seat taken.",
            "pharmacy_model": "Pharmacy model after the event (for a separation: the one left).",
            "termination_type": "voluntary, involuntary, retirement or other (separations only).",
            **LINEAGE,
        },
    ),
    "fct_budget_release": (
        "table",
        "Latest state of each position-control budget release "
        "(latest record_updated_at wins; ties: the later file).",
        {
            "release_id": "Position-control release id.",
            "position_id": "The seat the money is for.",
            "action": "new_position or backfill.",
            "job_code": "Job the seat is budgeted for.",
            "pharmacy_model": "Pharmacy model of the seat.",
            "fte": "Budgeted FTE.",
            "annual_amount": "Annual budget, USD.",
            "requested_date": "When the manager asked for the budget.",
            "released_date": "When finance released it; null until released.",
            "status": "requested, released, denied or withdrawn.",
            "days_to_release": "released_date - requested_date; null until released.",
            **LINEAGE,
        },
    ),
    "fct_vacancy": (
        "table",
        "One row per vacancy of a seat: opened when an incumbent leaves "
        "(separation or move to another seat) or a new_position release is "
        "released; closed by the next employee placed in the seat.",
        {
            "position_id": "The seat.",
            "job_code": "Job of the seat as last held (or as released for a new seat).",
            "pharmacy_model": "Pharmacy model of the seat.",
            "opened_on": "termination_date, job_effective_date of the move out, or released_date.",
            "open_reason": "separation, internal_move or new_position.",
            "backfill_release_id": "First backfill release of the seat requested on or after "
            "opened_on and before closed_on (denied ones included).",
            "budget_requested_on": "requested_date of that release.",
            "budget_released_on": "released_date of that release (null if not released).",
            "closed_on": "job_effective_date of the next incumbent; null while open.",
            "filled_internally": "True when the next incumbent was already employed here "
            "(an internal move); false for a hire or rehire.",
            "days_to_fill": "closed_on - opened_on.",
            "days_waiting_for_budget": "budget_released_on - budget_requested_on.",
        },
    ),
    "fct_headcount_monthly": (
        "table",
        "Headcount at each month end from the first snapshot's "
        "month to the latest snapshot, by job and pharmacy model.",
        {
            "month_end": "Last day of the month.",
            "job_code": "Job held that day.",
            "pharmacy_model": "Pharmacy model that day.",
            "headcount": "Employees hired on or before that day and not separated on or before it "
            "(on leave included; a vanished employee keeps the last known state).",
            "fte": "Sum of their FTE.",
        },
    ),
    "mart_retention_annual": (
        "view",
        "Annual turnover and retention by job family, and ALL.",
        {
            "year": "Calendar year.",
            "job_family": "Job family, or ALL.",
            "start_headcount": "Headcount on 31 December of the year before.",
            "avg_headcount": "Mean of the year's month-end headcounts (12, or those known so far).",
            "separations": "Separations in the year, by the family left.",
            "voluntary_separations": "Separations typed voluntary or retirement.",
            "turnover_rate": "separations / avg_headcount (a fraction).",
            "voluntary_turnover_rate": "voluntary_separations / avg_headcount.",
            "retention_rate": "Share of the start_headcount employees still employed, in any job, "
            "on 31 December (or the latest snapshot); rehired by then counts.",
        },
    ),
    "mart_career_progression": (
        "view",
        "Moves between job codes per year.",
        {
            "year": "Year of the move.",
            "from_job_code": "Job left.",
            "to_job_code": "Job taken.",
            "event_type": "promotion, lateral or demotion.",
            "employees": "Distinct employees who made the move.",
            "moves": "Number of moves.",
        },
    ),
    "mart_new_positions": (
        "view",
        "Seats created by released new_position releases.",
        {
            "year": "Year of released_date.",
            "job_code": "Job of the new seat.",
            "job_title": "Its title.",
            "created_in_expansion": "True for the expansion's new roles.",
            "positions": "Distinct seats (position_id) released.",
            "fte": "Their budgeted FTE.",
            "annual_amount": "Their annual budget, USD.",
        },
    ),
    "mart_backfill_delays": (
        "view",
        "Vacancies by year opened and job family, and ALL.",
        {
            "year": "Year of opened_on.",
            "job_family": "Job family of the seat, or ALL.",
            "vacancies_opened": "Vacancies opened in the year.",
            "vacancies_filled": "Of those, the ones closed by the latest data loaded.",
            "median_days_to_fill": "Median days_to_fill of the filled ones (even count: mean of "
            "the middle two).",
            "p90_days_to_fill": "90th percentile of days_to_fill (linear interpolation).",
            "median_days_waiting_for_budget": "Median days_waiting_for_budget of the filled ones.",
            "open_at_year_end": "Of the vacancies opened in the year, those not closed by 31 "
            "December of that year.",
        },
    ),
    "mart_engagement": (
        "view",
        "Engagement survey indexes by year and group, with anonymity "
        "(groups under the minimum size suppressed, plus complementary "
        "suppression).",
        {
            "survey_year": "Survey year.",
            "group_by": "ALL, job_family, pharmacy_model or department.",
            "group_value": "The group; ALL for the total; (not stated) where left empty.",
            "respondents": "Responses in the group (shown even when suppressed).",
            "engagement_index": "Mean respondent engagement score mapped 1..5 to 0..100, one "
            "decimal; null when suppressed.",
            "career_growth_index": "Same for career_growth items.",
            "favorable_pct": "Share of answered engagement items that are 4 or 5 (a fraction).",
            "suppressed": "True when the group's scores are hidden for anonymity.",
        },
    ),
    "etl_batch": (
        "table",
        "One row per source file seen: the audit trail.",
        {
            "batch_id": "Load id; every staged row and quarantine record carries it.",
            "run_id": "The nightly run that read the file.",
            "source": "roster, budget, survey or survey_items.",
            "file_name": "Path within the landing folder.",
            "file_date": "Date in the file name (1 January for a survey year).",
            "sha256": "Content hash: the same content is never loaded twice.",
            "rows_read": "Data rows in the file.",
            "rows_loaded": "Rows staged.",
            "rows_quarantined": "Rows set aside (see etl_quarantine).",
            "started_at": "Run start.",
            "finished_at": "When the file's batch was recorded.",
            "status": "loaded, rejected (file-level rule broken) or failed (run rolled back).",
            "superseded_by": "batch_id of the corrected file that replaced this one.",
            "validated_with": "gx (Great Expectations) or vectorised (same suite, pandas).",
            "error": "Why the file was rejected or the run failed.",
        },
    ),
    "etl_run": (
        "table",
        "One row per nightly run that loaded, rejected or failed (a night "
        "with nothing new leaves no row).",
        {
            "run_id": "The run.",
            "run_date": "Its logical date (--run-date).",
            "started_at": "Start.",
            "finished_at": "End.",
            "status": "succeeded, rejected files, or failed (rolled back).",
            "files_loaded": "Files loaded.",
            "files_skipped": "Files already loaded with the same content.",
            "files_rejected": "Files rejected.",
            "rows_loaded": "Rows staged.",
            "rows_quarantined": "Rows quarantined.",
            "error": "Why the run failed.",
        },
    ),
    "etl_quarantine": (
        "table",
        "One row per rejected row and rule. No personal data.",
        {
            "batch_id": "The file's batch.",
            "row_number": "Data-row number in the file (1 = first row after the header).",
            "rule": "The expectation that failed.",
            "detail": "The expectation and columns; codes, dates and numbers are echoed, "
            "identifiers and free text never.",
            "employee_key": "For roster rows with a well-formed employee_id: its keyed hash.",
        },
    ),
    "etl_anomaly": (
        "table",
        "What was kept but looks wrong.",
        {
            "run_id": "Run that found it.",
            "batch_id": "File concerned, where one is.",
            "kind": "vanished_without_termination, snapshot_older_than_loaded, extra_columns, "
            "job_change_without_new_effective_date, rehire_without_observed_separation.",
            "employee_key": "Employee concerned, where one is.",
            "observed_on": "Day it concerns.",
            "detail": "Explanation.",
            "origin": "history (recomputed every run) or arrival (recorded when the file came).",
        },
    ),
}


def apply_comments(conn: sa.Connection) -> None:
    """COMMENT ON every described relation and column (both DuckDB and PostgreSQL have it)."""
    for name, (kind, description, columns) in RELATIONS.items():
        conn.execute(sa.text(f"COMMENT ON {kind.upper()} {name} IS {_literal(description)}"))
        for column, text in columns.items():
            conn.execute(sa.text(f"COMMENT ON COLUMN {name}.{column} IS {_literal(text)}"))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''").replace(":", r"\:") + "'"


def markdown() -> str:
    """The data dictionary as Markdown."""
    lines = [
        "# rxstaff data dictionary",
        "",
        "Generated by `rxstaff dictionary` from `warehouse/dictionary.py`, the same source as",
        "the `COMMENT ON` descriptions in the warehouse. Do not edit by hand.",
        "",
        "Views (`mart_*`) and the `dim_*`/`fct_*` tables are the stable BI interface. "
        "`etl_*` tables are the audit trail.",
        "",
    ]
    for name, (kind, description, columns) in RELATIONS.items():
        lines += [f"## `{name}` ({kind})", "", description, "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {t} |" for c, t in columns.items()]
        lines.append("")
    return "\n".join(lines)
