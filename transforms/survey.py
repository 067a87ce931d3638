"""Engagement survey exports and their codebooks: respondents, answers, items."""

from __future__ import annotations

import re

import pandas as pd

from rxstaff.transforms.casting import to_timestamp

QUESTION = re.compile(r"^q\d+$")
CAST_CHECKS = [("submitted_at", "timestamp")]
RESPONDENT_COLUMNS = [
    "row_number",
    "survey_year",
    "response_id",
    "submitted_at",
    "department",
    "pharmacy_model",
    "job_family",
    "tenure_band",
]


def question_columns(columns: list[str]) -> list[str]:
    """The ``qNN`` answer columns of an export, whatever this year's numbering."""
    return [c for c in columns if QUESTION.match(c)]


def normalise_question_id(values: pd.Series) -> pd.Series:
    """Headers are lower-cased, so codebook ids are too: Q07 and q07 name one column."""
    return values.str.lower()


def stage_respondents(rows: pd.DataFrame) -> pd.DataFrame:
    staged = pd.DataFrame(index=rows.index)
    staged["row_number"] = rows["row_number"].astype("int64")
    staged["survey_year"] = rows["survey_year"].astype("int64")
    staged["response_id"] = rows["response_id"].astype("string")
    staged["submitted_at"] = to_timestamp(rows["submitted_at"])
    for column in ["department", "pharmacy_model", "job_family", "tenure_band"]:
        staged[column] = rows[column].astype("string")
    return staged[RESPONDENT_COLUMNS].reset_index(drop=True)


def stage_answers(rows: pd.DataFrame) -> pd.DataFrame:
    """Answers in long form (one row per answered question): years renumber questions."""
    questions = question_columns(list(rows.columns))
    long = rows[["row_number", *questions]].melt(
        id_vars="row_number", var_name="question_id", value_name="answer"
    )
    long = long[long["answer"].notna()]
    return pd.DataFrame(
        {
            "row_number": long["row_number"].astype("int64"),
            "question_id": long["question_id"].astype("string"),
            "answer": long["answer"].astype("int64"),
        }
    ).reset_index(drop=True)


def stage_items(rows: pd.DataFrame, survey_year: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_number": rows["row_number"].astype("int64"),
            "survey_year": survey_year,
            "question_id": normalise_question_id(rows["question_id"]).astype("string"),
            "dimension": rows["dimension"]
            .str.lower()
            .str.replace(r"\s+", "_", regex=True)
            .astype("string"),
            "text": rows["text"].astype("string"),
        }
    ).reset_index(drop=True)
