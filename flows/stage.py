"""One extract from raw strings to staging frames and quarantine records.

Clean (transforms), validate (expectations), then stage the rows that passed
(transforms). Personal and unknown columns are dropped before validation, so
neither Great Expectations nor any log ever sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from expectations.suite import (
    BINDING_COLUMNS,
    Outcome,
    missing_columns,
    personal_columns,
    required_columns,
    validate_files,
)
from flows.landing import LandingFile
from transforms import quarantine as q
from transforms.pseudonym import Pseudonymiser
from transforms.raw_frame import clean_extract, extra_columns, keep_columns
from transforms.release import stage_releases
from transforms.release import timestamp_failures as release_timestamp_failures
from transforms.roster import stage_roster
from transforms.survey import question_columns, stage_answers, stage_items, stage_respondents
from transforms.survey import timestamp_failures as survey_timestamp_failures


@dataclass
class Reference:
    """What validation and staging need besides the file itself."""

    job_codes: list[str]
    job_families: list[str]
    pseudonyms: Pseudonymiser


@dataclass
class StagedFile:
    file: LandingFile
    rows_read: int = 0
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=q.QUARANTINE_COLUMNS)
    )
    file_errors: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        main = next(iter(self.tables.values()), None)
        return 0 if main is None else len(main)

    @property
    def rows_quarantined(self) -> int:
        return int(self.quarantine["row_number"].nunique()) if len(self.quarantine) else 0


@dataclass
class Prepared:
    """A readable file, cleaned and with its binding columns, waiting for validation."""

    file: LandingFile
    frame: pd.DataFrame
    rows_read: int
    extra_columns: list[str]


def prepare_file(file: LandingFile, raw: pd.DataFrame, file_no: int) -> Prepared | StagedFile:
    """Clean one extract; a StagedFile with file errors if a required column is missing."""
    suite = file.source
    clean = clean_extract(raw, personal_columns(suite))
    known = required_columns(suite)
    if suite == "survey":
        known = known + question_columns(list(clean.columns))
    extras = extra_columns(clean, known, [])
    missing = missing_columns(suite, clean)
    if missing:
        return StagedFile(file, rows_read=len(clean), file_errors=missing, extra_columns=extras)
    frame = keep_columns(clean, known).reset_index(drop=True)
    year = file.file_date.year
    frame = frame.assign(
        _file_no=file_no,
        _file_date=file.file_date.isoformat(),
        _file_year=str(year),
        _year_start=f"{year}-01-01",
        _next_year_start=f"{year + 1}-01-01",
    )
    return Prepared(file, frame, len(clean), extras)


def stage_files(prepared: list[Prepared], ref: Reference, engine: str = "gx") -> list[StagedFile]:
    """Validate files of one source together, then stage each one's passing rows."""
    if not prepared:
        return []
    suite = prepared[0].file.source
    questions = sorted({c for p in prepared for c in question_columns(list(p.frame.columns))})
    params = {
        "job_codes": ref.job_codes,
        "job_families": ref.job_families,
        "question_columns": questions,
    }
    outcomes = validate_files(suite, [p.frame for p in prepared], params, engine)
    return [_stage_one(p, outcome, ref) for p, outcome in zip(prepared, outcomes, strict=True)]


def _stage_one(prepared: Prepared, outcome: Outcome, ref: Reference) -> StagedFile:
    file, clean = prepared.file, prepared.frame.drop(columns=BINDING_COLUMNS)
    staged = StagedFile(file, rows_read=prepared.rows_read, extra_columns=prepared.extra_columns)
    if outcome.rejected:
        staged.file_errors = outcome.file_errors
        return staged
    failures = outcome.row_failures
    failures = pd.concat(
        [failures, _cast_failures(file.source, clean, failures)], ignore_index=True
    )
    clean["row_number"] = q.row_numbers(clean)
    good = q.passing_rows(clean, failures)
    staged.quarantine = q.quarantine_records(failures)
    staged.tables = _stage_rows(file.source, good, file, ref)
    if file.source == "roster" and len(failures):
        staged.quarantine = _with_employee_keys(staged.quarantine, clean, ref)
    return staged


def _cast_failures(suite: str, clean: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """Timestamps that match the ISO pattern but name no real instant."""
    checks = {
        "budget": ("record_updated_at", release_timestamp_failures),
        "survey": ("submitted_at", survey_timestamp_failures),
    }
    if suite not in checks:
        return pd.DataFrame(columns=["index", "rule", "detail"])
    column, check = checks[suite]
    already = set(failures["index"]) if len(failures) else set()
    bad = check(clean) & ~clean.index.isin(list(already))
    return q.cast_failures(
        clean, bad, f"{column}_is_real_timestamp", f"{column} does not parse as an ISO 8601 instant"
    )


def _stage_rows(
    suite: str, good: pd.DataFrame, file: LandingFile, ref: Reference
) -> dict[str, pd.DataFrame]:
    if suite == "roster":
        return {"stg_roster": stage_roster(good, ref.pseudonyms)}
    if suite == "budget":
        frame = stage_releases(good)
        frame.insert(1, "file_date", file.file_date)
        return {"stg_budget_release": frame}
    if suite == "survey":
        return {
            "stg_survey_respondent": stage_respondents(good),
            "stg_survey_answer": stage_answers(good),
        }
    return {"stg_survey_item": stage_items(good, file.year)}


def _with_employee_keys(
    records: pd.DataFrame, clean: pd.DataFrame, ref: Reference
) -> pd.DataFrame:
    """Quarantined roster rows keep the pseudonymous key (never the raw id) if well formed."""
    ids = clean.set_index("row_number")["employee_id"]
    keyed = records.copy()
    candidates = ids.reindex(keyed["row_number"].to_numpy())
    well_formed = candidates.where(candidates.str.fullmatch(r"E\d+", na=False))
    keyed["employee_key"] = ref.pseudonyms.keys(
        pd.Series(well_formed.to_numpy(), dtype="string")
    ).to_numpy()
    return keyed
