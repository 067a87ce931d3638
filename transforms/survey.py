"""Engagement survey exports and their codebooks (sources.md, survey and survey_items)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rxstaff.transforms.source import (
    FILE_NO,
    YEAR,
    Bound,
    Derived,
    Source,
    StagingColumn,
    StagingTable,
    columns,
    named,
)

QUESTION = re.compile(r"^q\d+$")


def normalise_question_id(values: pd.Series) -> pd.Series:
    """Headers are lower-cased, so codebook ids are too: Q07 and q07 name one column."""
    return values.str.lower()


def snake_case(values: pd.Series) -> pd.Series:
    """A dimension as one word: ``Career Growth`` and ``career_growth`` are one dimension."""
    return values.str.lower().str.replace(r"\s+", "_", regex=True)


def answers(rows: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Each respondent's answers in long form: one row per answered question (the
    question columns change every year)."""
    questions = source.repeating_columns(list(rows.columns))
    position = np.arange(len(rows))
    long = (
        rows[questions]
        .set_axis(position)
        .melt(var_name="question_id", value_name="answer", ignore_index=False)
    )
    long = long[long["answer"].notna()]
    at = long.index.to_numpy()
    return pd.DataFrame(
        {
            "row_number": rows["row_number"].to_numpy()[at].astype("int64"),
            "question_id": long["question_id"].astype("string").to_numpy(),
            "answer": long["answer"].astype("int64").to_numpy(),
            FILE_NO: rows[FILE_NO].to_numpy()[at],
        }
    )


ANSWERS = StagingTable(
    "stg_survey_answer",
    (
        StagingColumn("row_number", "INTEGER"),
        StagingColumn("question_id", "TEXT"),
        StagingColumn("answer", "INTEGER"),
    ),
)
# Single persons' answers: private; the question columns change every year: repeating.
SURVEY = Source(
    "survey", folder="survey", pattern=named("engagement_survey_", YEAR),
    suite="engagement_survey.json", table="stg_survey_respondent",
    derived=(Derived(ANSWERS, answers),), private=True, repeating=QUESTION,
    columns=columns("""
        response_id      id
        survey_year      integer
        submitted_at     timestamp  nullable
        department       text       nullable
        pharmacy_model   code       nullable
        job_family       code       nullable
        tenure_band      code       nullable
    """),
)  # fmt: skip
SURVEY_ITEMS = Source(
    "survey_items", folder="survey", pattern=named("survey_items_", YEAR),
    suite="survey_items.json", table="stg_survey_item",
    bound=(Bound("survey_year", "_file_year", "integer"),),
    columns=columns(
        """
        question_id      id
        dimension        code
        text             text       nullable
        """,
        question_id=normalise_question_id,
        dimension=snake_case,
    ),
)  # fmt: skip
