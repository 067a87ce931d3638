"""Anonymity of the survey marts holds for any survey, not only the ones we thought of.

Hypothesis draws random small surveys (groups of 1 to a dozen respondents in up to four
job families, models and departments, answers missing at random) and plays an attacker
who knows the published rows: for each survey mart, grouping and item, a suppressed
group's figure could be worked out by differencing exactly when the whole-organisation
row is published and that group is the only one hidden in its grouping. The complementary
suppression rule must leave no such case, and no hidden figure may be shown anywhere.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxstaff.warehouse import build
from rxstaff.warehouse.declarations import declarations
from rxstaff.warehouse.loader import bulk_insert
from rxstaff.warehouse.schema import upgrade

MIN_GROUP = 5
QUESTIONS = [("q01", "engagement"), ("q02", "engagement"), ("q03", "career_growth"),
             ("q04", "manager")]  # fmt: skip
# Figures that must be null where the group is suppressed, by mart.
HIDDEN = {
    "mart_engagement": ["engagement_index", "career_growth_index", "favorable_pct",
                        "response_rate", "engagement_index_comparable", "engagement_change"],
    "mart_engagement_item": ["answered", "mean_score", "favorable_pct", "neutral_pct",
                             "unfavorable_pct", "change_vs_prior"],
    "mart_engagement_retention": ["engagement_index"],
}  # fmt: skip
PARTITION = {
    "mart_engagement": ["survey_year", "group_by"],
    "mart_engagement_item": ["survey_year", "group_by", "item_key"],
    "mart_engagement_retention": ["survey_year", "group_by"],
}

answer = st.one_of(st.none(), st.integers(1, 5))
respondent = st.fixed_dictionaries(
    {
        "year": st.sampled_from([2023, 2024]),
        "job_family": st.sampled_from(["Shipping", "Specialty Pharmacy Technician",
                                       "Customer Service", None]),
        "pharmacy_model": st.sampled_from(["specialty", "infusion", "retail"]),
        "department": st.sampled_from(["Ops", "Billing", "Intake", "Fulfilment"]),
        "answers": st.fixed_dictionaries({q: answer for q, _ in QUESTIONS}),
    }
)  # fmt: skip


def published(people: list[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Load the drawn responses into an in-memory warehouse and read the survey marts."""
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        upgrade(conn)
        build.ensure_tables(conn)
        items = [
            {"batch_id": y, "row_number": n, "survey_year": y, "question_id": q,
             "dimension": d, "text": f"item {q}"}
            for y in (2023, 2024) for n, (q, d) in enumerate(QUESTIONS, start=1)
        ]  # fmt: skip
        bulk_insert(conn, "stg_survey_item", pd.DataFrame(items))
        bulk_insert(conn, "stg_survey_respondent", pd.DataFrame([
            {"batch_id": p["year"], "row_number": n, "survey_year": p["year"],
             "response_id": f"R{n}", "submitted_at": pd.Timestamp(f"{p['year']}-10-01"),
             "department": p["department"], "pharmacy_model": p["pharmacy_model"],
             "job_family": p["job_family"], "tenure_band": "1-3"}
            for n, p in enumerate(people, start=1)
        ]))  # fmt: skip
        answers = [
            {"batch_id": p["year"], "row_number": n, "question_id": q, "answer": a}
            for n, p in enumerate(people, start=1)
            for q, a in p["answers"].items()
            if a is not None
        ]
        if answers:
            bulk_insert(conn, "stg_survey_answer", pd.DataFrame(answers))
        for name in (
            "dim_survey_item",
            "int_survey_population",
            "int_survey_group_member",
            "int_survey_respondent_score",
        ):
            build.build_table(conn, declarations()[name])
        build.refresh_views(conn, min_group_size=MIN_GROUP)
        marts = {
            name: pd.read_sql(sa.text(f"SELECT * FROM {name}"), conn)
            for name in (*HIDDEN, "mart_engagement_drivers")
        }
    engine.dispose()
    return marts


def recoverable(frame: pd.DataFrame, keys: list[str]) -> list[tuple]:
    """Partitions where the attacker isolates one hidden group: the total is published
    and exactly one group of the grouping is suppressed."""
    totals = frame[frame.group_by == "ALL"]
    open_years = set(totals.loc[~totals.suppressed.astype(bool), "survey_year"])
    groups = frame[frame.group_by != "ALL"]
    hidden = Counter(
        tuple(row)
        for row in groups.loc[groups.suppressed.astype(bool), keys].itertuples(index=False)
    )
    return [key for key, n in hidden.items() if n == 1 and key[0] in open_years]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(respondent, min_size=1, max_size=30))
def test_no_suppressed_figure_can_be_recovered_by_differencing(people: list[dict]) -> None:
    marts = published(people)
    for name, columns in HIDDEN.items():
        frame = marts[name]
        assert recoverable(frame, PARTITION[name]) == [], name
        hidden = frame[frame.suppressed.astype(bool)]
        assert hidden[columns].isna().all().all(), f"{name} shows a suppressed figure"
    engagement = marts["mart_engagement"]
    counts = pd.DataFrame(people).assign(job_family=lambda f: f.job_family.fillna("(not stated)"))
    for (year, family), n in counts.groupby(["year", "job_family"]).size().items():
        row = engagement[(engagement.survey_year == year) & (engagement.group_by == "job_family")
                         & (engagement.group_value == family)].iloc[0]  # fmt: skip
        if n < MIN_GROUP:  # under the minimum: hidden, its count too
            assert row.suppressed and pd.isna(row.respondents)
    drivers = marts["mart_engagement_drivers"]
    whole = engagement[engagement.group_by == "ALL"].set_index("survey_year").suppressed
    for row in drivers.itertuples():
        if whole[row.survey_year]:
            assert pd.isna(row.impact) and pd.isna(row.mean_score)
