"""`rxstaff metrics`: the headline figures as terminal tables, straight from the BI views."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from rich.table import Table

HEADLINES = [
    (
        "Promotions by ladder step",
        """
        SELECT year, from_job_code || ' -> ' || to_job_code AS step, employees, moves
        FROM mart_career_progression WHERE event_type = 'promotion' {year_and}
        ORDER BY year, moves DESC, step""",
    ),
    (
        "New positions by role",
        """
        SELECT year, job_code, job_title, positions, fte, annual_amount
        FROM mart_new_positions WHERE 1 = 1 {year_and}
        ORDER BY year, positions DESC, job_code""",
    ),
    (
        "Turnover and retention (all families)",
        """
        SELECT year, start_headcount AS "start", avg_headcount AS "avg",
               separations AS leavers, turnover_rate AS turnover,
               voluntary_turnover_rate AS voluntary, retention_rate AS retained
        FROM mart_retention_annual WHERE job_family = 'ALL' {year_and} ORDER BY year""",
    ),
    (
        "Vacancies by year opened (all families and models)",
        """
        SELECT year, vacancies_opened AS opened, vacancies_filled AS filled,
               denied_or_withdrawn AS "denied or withdrawn",
               open_at_year_end AS "open at year end"
        FROM mart_backfill_delays
        WHERE job_family = 'ALL' AND pharmacy_model = 'ALL' AND open_reason = 'ALL'
        {year_and} ORDER BY year""",
    ),
    (
        "Backfill delays by stage, median days",
        """
        SELECT year, median_days_to_request AS "open to request",
               median_days_waiting_for_budget AS "request to release",
               median_days_release_to_fill AS "release to fill",
               median_days_to_fill AS "open to fill", p90_days_to_fill AS "p90 open to fill"
        FROM mart_backfill_delays
        WHERE job_family = 'ALL' AND pharmacy_model = 'ALL' AND open_reason = 'ALL'
        {year_and} ORDER BY year""",
    ),
    (
        "Open vacancies now, by state (the backlog)",
        """
        SELECT as_of_date AS "as of", state, open_vacancies AS "open", open_fte AS fte,
               oldest_opened_on AS "oldest opened", median_days_open AS "median days open",
               vacancy_rate AS "vacancy rate"
        FROM mart_vacancy_backlog WHERE job_family = 'ALL' AND pharmacy_model = 'ALL'
        ORDER BY CASE WHEN state = 'ALL' THEN 1 ELSE 0 END, open_vacancies DESC, state""",
    ),
    (
        "Engagement trend (whole organisation; like for like: the items asked both years)",
        """
        SELECT survey_year AS year, respondents, response_rate AS "response rate",
               engagement_index AS engagement,
               engagement_index_comparable AS "like for like",
               engagement_change AS change,
               career_growth_index AS "career growth", favorable_pct AS favorable
        FROM mart_engagement WHERE group_by = 'ALL' {survey_year_and} ORDER BY survey_year""",
    ),
    (
        "Top drivers of engagement (correlation with the engagement score)",
        """
        SELECT survey_year AS year, item_text AS item, dimension, respondents, impact,
               mean_score AS score
        FROM (
            SELECT d.*, ROW_NUMBER() OVER (
                PARTITION BY survey_year ORDER BY impact DESC NULLS LAST, item_key) AS rank
            FROM mart_engagement_drivers AS d WHERE impact IS NOT NULL {survey_year_and}
        ) AS ranked
        WHERE rank <= 3 ORDER BY survey_year, impact DESC""",
    ),
    (
        "Readiness in the new roles (required training, proficiency within 90 days)",
        """
        SELECT year, job_code, job_title, entries, entries_with_requirements AS "with training",
               proficiency_rate_90 AS "proficient in 90 days",
               median_days_to_proficiency AS "median days",
               avg_training_hours_first_180 AS "hours, first 180 days"
        FROM mart_role_readiness WHERE created_in_expansion {year_and}
        ORDER BY year, job_code""",
    ),
]
RATES = {
    "turnover", "voluntary", "retained", "favorable", "vacancy rate", "response rate",
    "proficient in 90 days",
}  # fmt: skip


def headline_frames(conn: sa.Connection, year: int | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) of each headline, optionally for one year."""
    year_and = f"AND year = {int(year)}" if year else ""
    survey_and = f"AND survey_year = {int(year)}" if year else ""
    return [
        (
            title,
            pd.read_sql(sa.text(sql.format(year_and=year_and, survey_year_and=survey_and)), conn),
        )
        for title, sql in HEADLINES
    ]


def headline_tables(conn: sa.Connection, year: int | None = None) -> list[Table]:
    return [_table(title, frame) for title, frame in headline_frames(conn, year)]


def _table(title: str, frame: pd.DataFrame) -> Table:
    table = Table(*frame.columns, title=title, title_justify="left")
    for row in frame.itertuples(index=False):
        table.add_row(
            *(_cell(column, value) for column, value in zip(frame.columns, row, strict=True))
        )
    if frame.empty:
        table.caption = "no rows"
    return table


def _cell(column: str, value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    if column in RATES:
        return f"{float(value):.1%}"  # type: ignore[arg-type]  # a rate column holds numbers
    if column == "annual_amount":
        return f"${float(value):,.0f}"  # type: ignore[arg-type]  # an amount column too
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)
