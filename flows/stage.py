"""Extracts from raw strings to staging frames and quarantine records, a chunk at a time.

Clean (transforms), validate (expectations), then stage the rows that passed
(transforms). Personal and unknown columns are dropped as each file is read, so
neither Great Expectations nor any log ever sees them. Work is done on a chunk of
files at once: pandas and GX cost per call, and a night can bring hundreds of files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rxstaff.expectations.suite import (
    missing_columns,
    personal_columns,
    required_columns,
    validate_chunk,
)
from rxstaff.flows.landing import LandingFile
from rxstaff.transforms import quarantine as q
from rxstaff.transforms import release, roster, survey
from rxstaff.transforms.casting import RULE_SUFFIX, to_date, unparseable
from rxstaff.transforms.pseudonym import Pseudonymiser
from rxstaff.transforms.raw_frame import (
    drop_columns,
    extra_columns,
    keep_columns,
    normalise_headers,
    trim_cells,
)
from rxstaff.transforms.release import stage_releases
from rxstaff.transforms.roster import stage_roster
from rxstaff.transforms.survey import (
    question_columns,
    stage_answers,
    stage_items,
    stage_respondents,
)

FILE_NO = "_file_no"
CAST_CHECKS = {
    "roster": roster.CAST_CHECKS,
    "budget": release.CAST_CHECKS,
    "survey": survey.CAST_CHECKS,
    "survey_items": [],
}


@dataclass
class Reference:
    """What validation and staging need besides the files themselves."""

    job_codes: list[str]
    job_families: list[str]
    pseudonyms: Pseudonymiser


@dataclass
class FileResult:
    """One file's fate: rejected with reasons, or loaded with its counts."""

    file: LandingFile
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    file_errors: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class Prepared:
    """A readable file with its required columns, waiting for validation with its chunk."""

    file: LandingFile
    frame: pd.DataFrame
    extra_columns: list[str]


@dataclass
class StagedChunk:
    """Staging frames and quarantine records of a chunk; rows carry their ``_file_no``."""

    files: list[FileResult]
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame


def prepare_file(file: LandingFile, raw: pd.DataFrame, file_no: int) -> Prepared | FileResult:
    """Headers matched, personal and unknown columns dropped, binding columns added.

    A FileResult with file errors comes back when a required column is missing.
    """
    suite = file.source
    frame = drop_columns(normalise_headers(raw), personal_columns(suite))
    known = required_columns(suite)
    if suite == "survey":
        known = known + question_columns(list(frame.columns))
    extras = extra_columns(frame, known, [])
    missing = missing_columns(suite, frame)
    if missing:
        return FileResult(file, rows_read=len(frame), file_errors=missing, extra_columns=extras)
    frame = keep_columns(frame, known).reset_index(drop=True)
    frame[FILE_NO] = file_no
    frame["_row_number"] = range(1, len(frame) + 1)
    return Prepared(file, frame, extras)


def stage_chunk(prepared: list[Prepared], ref: Reference, engine: str = "gx") -> StagedChunk:
    """Validate a chunk of one source's files together, then stage the passing rows."""
    source = prepared[0].file.source
    raw = pd.concat([p.frame for p in prepared], ignore_index=True)
    chunk = trim_cells(raw.drop(columns=[FILE_NO, "_row_number"]))
    chunk[FILE_NO] = raw[FILE_NO].to_numpy()
    chunk["row_number"] = raw["_row_number"].to_numpy()
    chunk = _with_binding_columns(chunk, [p.file for p in prepared])
    questions = question_columns(list(chunk.columns))
    params = {
        "job_codes": ref.job_codes,
        "job_families": ref.job_families,
        "question_columns": questions,
    }
    outcome = validate_chunk(source, chunk.drop(columns=["row_number"]), params, engine)
    failures = pd.concat(
        [outcome.row_failures, _cast_failures(source, chunk, outcome.row_failures)],
        ignore_index=True,
    )
    rejected = set(outcome.file_errors)
    bad_rows = set(failures["index"].astype("int64")) if len(failures) else set()
    keep = ~chunk.index.isin(list(bad_rows)) & ~chunk[FILE_NO].isin(list(rejected))
    good = chunk[keep].reset_index(drop=True)
    tables = _stage_rows(source, good, ref)
    quarantine = _quarantine(source, chunk, failures, rejected, ref)
    files = _file_results(prepared, good, quarantine, outcome.file_errors)
    return StagedChunk(files, tables, quarantine)


def _with_binding_columns(chunk: pd.DataFrame, files: list[LandingFile]) -> pd.DataFrame:
    """The values each row's file name binds (its date, its year), as columns for the suite."""
    file_no = chunk[FILE_NO].to_numpy()
    years = [f.file_date.year for f in files]
    per_file = {
        "_file_date": [f.file_date.isoformat() for f in files],
        "_file_year": [str(y) for y in years],
        "_year_start": [f"{y}-01-01" for y in years],
        "_next_year_start": [f"{y + 1}-01-01" for y in years],
    }
    for column, values in per_file.items():
        chunk[column] = pd.array(values, dtype="string")[file_no]
    return chunk


def _cast_failures(source: str, chunk: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """Dates and timestamps that match the suite's pattern but name no real day or instant."""
    already = list(failures["index"]) if len(failures) else []
    found = []
    for column, kind in CAST_CHECKS[source]:
        bad = unparseable(chunk[column], kind) & ~chunk.index.isin(already)
        if bad.any():
            found.append(
                q.cast_failures(
                    bad, f"{column}_{RULE_SUFFIX[kind]}", f"{column} is not a real {kind}"
                )
            )
    if not found:
        return pd.DataFrame(columns=["index", "rule", "detail", FILE_NO])
    result = pd.concat(found, ignore_index=True)
    result[FILE_NO] = chunk[FILE_NO].to_numpy()[result["index"].to_numpy(dtype="int64")]
    return result


def _stage_rows(source: str, good: pd.DataFrame, ref: Reference) -> dict[str, pd.DataFrame]:
    """Typed staging frames; each keeps the ``_file_no`` that maps it to a batch."""
    file_no = good[FILE_NO].to_numpy()
    if source == "roster":
        tables = {"stg_roster": stage_roster(good, ref.pseudonyms)}
    elif source == "budget":
        frame = stage_releases(good)
        frame.insert(1, "file_date", to_date(good["_file_date"]).to_numpy())
        tables = {"stg_budget_release": frame}
    elif source == "survey":
        respondents = stage_respondents(good)
        respondents[FILE_NO] = file_no
        answers = stage_answers(good.assign(row_number=range(len(good))))
        answer_rows = good["row_number"].to_numpy()[answers["row_number"].to_numpy()]
        answers[FILE_NO] = file_no[answers["row_number"].to_numpy()]
        answers["row_number"] = answer_rows
        return {"stg_survey_respondent": respondents, "stg_survey_answer": answers}
    else:
        tables = {"stg_survey_item": stage_items(good, good["_file_year"].astype("int64"))}
    for frame in tables.values():
        frame[FILE_NO] = file_no
    return tables


def _quarantine(
    source: str, chunk: pd.DataFrame, failures: pd.DataFrame, rejected: set[int], ref: Reference
) -> pd.DataFrame:
    """One record per (row, rule), rows of rejected files excluded; roster rows keep a key."""
    if not len(failures):
        return pd.DataFrame(columns=[*q.QUARANTINE_COLUMNS, "employee_key", FILE_NO])
    failures = failures[~failures[FILE_NO].isin(list(rejected))]
    records = q.quarantine_records(failures, chunk["row_number"])
    positions = records.pop("index").to_numpy(dtype="int64")
    records[FILE_NO] = chunk[FILE_NO].to_numpy()[positions]
    records["employee_key"] = None
    if source == "roster":
        ids = chunk["employee_id"].iloc[positions].reset_index(drop=True)
        well_formed = ids.where(ids.str.fullmatch(r"E\d+", na=False))
        records["employee_key"] = ref.pseudonyms.keys(well_formed).to_numpy()
    return records


def _file_results(
    prepared: list[Prepared],
    good: pd.DataFrame,
    quarantine: pd.DataFrame,
    file_errors: dict[int, list[str]],
) -> list[FileResult]:
    loaded = good[FILE_NO].value_counts()
    quarantined = quarantine.drop_duplicates([FILE_NO, "row_number"])[FILE_NO].value_counts()
    return [
        FileResult(
            p.file,
            rows_read=len(p.frame),
            rows_loaded=int(loaded.get(n, 0)),
            rows_quarantined=int(quarantined.get(n, 0)),
            file_errors=file_errors.get(n, []),
            extra_columns=p.extra_columns,
        )
        for n, p in enumerate(prepared)
    ]
