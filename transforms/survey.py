"""Engagement survey exports and their codebooks (sources.md, survey and survey_items)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rxstaff.transforms.source import (
    FILE_NO,
    Bound,
    Column,
    Derived,
    Source,
    StagingColumn,
    StagingTable,
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
SURVEY = Source(
    name="survey",
    folder="survey",
    pattern=re.compile(r"^engagement_survey_(\d{4})\.csv$", re.IGNORECASE),
    suite="engagement_survey.json",
    columns=(
        Column("response_id", "id"),
        Column("survey_year", "integer"),
        Column("submitted_at", "timestamp", nullable=True),
        Column("department", "text", nullable=True),
        Column("pharmacy_model", "code", nullable=True),
        Column("job_family", "code", nullable=True),
        Column("tenure_band", "code", nullable=True),
    ),
    table="stg_survey_respondent",
    derived=(Derived(ANSWERS, answers),),
    private=True,
    repeating=QUESTION,
)
SURVEY_ITEMS = Source(
    name="survey_items",
    folder="survey",
    pattern=re.compile(r"^survey_items_(\d{4})\.csv$", re.IGNORECASE),
    suite="survey_items.json",
    columns=(
        Column("question_id", "id", clean=normalise_question_id),
        Column("dimension", "code", clean=snake_case),
        Column("text", "text", nullable=True),
    ),
    table="stg_survey_item",
    bound=(Bound("survey_year", "_file_year", "integer"),),
)
