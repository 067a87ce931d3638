"""Engagement survey exports and their codebooks (sources.md, survey and survey_items)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rxstaff.transforms.casting import to_timestamp
from rxstaff.transforms.source import FILE_NO, Column, Reference, Source

QUESTION = re.compile(r"^q\d+$")
GROUP_COLUMNS = ["department", "pharmacy_model", "job_family", "tenure_band"]
SURVEY_COLUMNS = (
    Column("response_id", "id"),
    Column("survey_year", "integer"),
    Column("submitted_at", "timestamp"),
    Column("department", "text"),
    Column("pharmacy_model", "code"),
    Column("job_family", "code"),
    Column("tenure_band", "code"),
)
ITEM_COLUMNS = (
    Column("question_id", "id"),
    Column("dimension", "code"),
    Column("text", "text"),
)


def normalise_question_id(values: pd.Series) -> pd.Series:
    """Headers are lower-cased, so codebook ids are too: Q07 and q07 name one column."""
    return values.str.lower()


def stage_survey(rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """Respondents, and their answers in long form (years renumber the questions)."""
    respondents = pd.DataFrame(index=rows.index)
    respondents["row_number"] = rows["row_number"].astype("int64")
    respondents["survey_year"] = rows["survey_year"].astype("int64")
    respondents["response_id"] = rows["response_id"].astype("string")
    respondents["submitted_at"] = to_timestamp(rows["submitted_at"])
    for column in GROUP_COLUMNS:
        respondents[column] = rows[column].astype("string")
    respondents[FILE_NO] = rows[FILE_NO].to_numpy()
    return {
        "stg_survey_respondent": respondents.reset_index(drop=True),
        "stg_survey_answer": _answers(rows),
    }


def _answers(rows: pd.DataFrame) -> pd.DataFrame:
    questions = SURVEY.repeating_columns(list(rows.columns))
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


def stage_items(rows: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """The codebook: each year's question ids with their dimension and text."""
    staged = pd.DataFrame(
        {
            "row_number": rows["row_number"].astype("int64"),
            "survey_year": rows["_file_year"].astype("int64"),
            "question_id": normalise_question_id(rows["question_id"]).astype("string"),
            "dimension": rows["dimension"]
            .str.lower()
            .str.replace(r"\s+", "_", regex=True)
            .astype("string"),
            "text": rows["text"].astype("string"),
            FILE_NO: rows[FILE_NO].to_numpy(),
        }
    )
    return {"stg_survey_item": staged.reset_index(drop=True)}


SURVEY = Source(
    name="survey",
    folder="survey",
    pattern=re.compile(r"^engagement_survey_(\d{4})\.csv$", re.IGNORECASE),
    suite="engagement_survey.json",
    columns=SURVEY_COLUMNS,
    stage=stage_survey,
    tables=("stg_survey_respondent", "stg_survey_answer"),
    private=True,
    repeating=QUESTION,
)
SURVEY_ITEMS = Source(
    name="survey_items",
    folder="survey",
    pattern=re.compile(r"^survey_items_(\d{4})\.csv$", re.IGNORECASE),
    suite="survey_items.json",
    columns=ITEM_COLUMNS,
    stage=stage_items,
    tables=("stg_survey_item",),
)
