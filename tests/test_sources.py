"""Each source's declaration and staging, without Prefect or a warehouse.

A few rows per source, written as the contract shows them (docs/contracts/sources.md),
through prepare -> combine -> validate -> stage; the staged frame must fit the staging
tables the migrations create, and bad rows must be set aside with their rule.
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from rxstaff.expectations.suite import validate_chunk
from rxstaff.extract.reference import read_job_catalog
from rxstaff.transforms import staging
from rxstaff.transforms.catalog import reference, stage_catalog
from rxstaff.transforms.source import FILE_NO, Reference
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.build import existing_columns
from rxstaff.warehouse.schema import upgrade

REF = reference(stage_catalog(read_job_catalog()), "unit-test-key")

# One good row per source, by column name (the declaration says which columns exist).
GOOD = {
    "roster": {
        "snapshot_date": "2024-03-01", "employee_id": "E100", "first_name": "Ann",
        "last_name": "Lee", "work_email": "ann.lee@example.org", "position_id": "P7",
        "job_code": "SPT2", "job_effective_date": "2024-01-15", "department": "Ops",
        "pharmacy_model": "specialty", "employment_status": "active",
        "hire_date": "2023-05-01", "termination_date": "", "termination_type": "",
        "fte": "0.8", "supervisor_id": "E1",
    },
    "budget": {
        "release_id": "BR-5", "position_id": "P7", "action": "backfill", "job_code": "SPT2",
        "pharmacy_model": "specialty", "fte": "1", "annual_amount": "51000.5",
        "requested_date": "2024-02-01", "released_date": "", "status": "requested",
        "record_updated_at": "2024-02-01T10:00:00",
    },
    "survey": {
        "response_id": "R1", "survey_year": "2024", "submitted_at": "2024-10-01T09:00:00Z",
        "department": "Ops", "pharmacy_model": "retail",
        "job_family": "Specialty Pharmacy Technician", "tenure_band": "1-3",
        "q01": "4", "q02": "", "q03": "5",
    },
    "survey_items": {"question_id": "Q01", "dimension": "Engagement", "text": "I am proud"},
    "training": {
        "record_id": "TR-1", "employee_id": "E100", "course_id": "C101",
        "course_title": "SPT core skills", "job_code": "SPT1", "required": "true",
        "assigned_on": "2024-02-01", "completed_on": "2024-03-01", "hours": "4.5",
        "status": "completed", "record_updated_at": "2024-03-01T16:30:00",
    },
}  # fmt: skip
FILE_DATES = {
    "roster": date(2024, 3, 1),
    "budget": date(2024, 2, 1),
    "survey": date(2024, 1, 1),
    "survey_items": date(2024, 1, 1),
    "training": date(2024, 3, 1),
}
# A second row's own identity (ids are unique within a file: duplicates are both set aside).
OTHER = {"roster": {"employee_id": "E101"}, "survey": {"response_id": "R2"}}
# One bad value per source and the rule that must catch it.
BAD = {
    "roster": ("fte", "1.5", "fte_greater_than_0_at_most_1"),
    "budget": ("status", "approved", "status_in_allowed_values"),
    "survey": ("q01", "7", "answer_between_1_and_5"),
    "survey_items": ("question_id", "x1", "question_id_format"),
    "training": ("hours", "250", "hours_between_0_and_200"),
}


def stage_rows(name: str, rows: list[dict[str, str]], ref: Reference = REF):
    src = SOURCES[name]
    prepared = staging.prepare(src, pd.DataFrame(rows, dtype="string"))
    assert not prepared.missing
    chunk = staging.combine([prepared.frame], [FILE_DATES[name]])
    outcome = validate_chunk(src, chunk, ref, "vectorised")
    return staging.stage(src, chunk, outcome.row_failures, set(outcome.file_errors), ref)


def test_the_good_rows_cover_every_declared_column() -> None:
    for name, src in SOURCES.items():
        assert set(src.column_names) <= set(GOOD[name]), name


@pytest.fixture(scope="module")
def staging_columns() -> dict[str, list[str]]:
    engine = sa.create_engine("duckdb:///:memory:")
    with engine.connect() as conn:
        upgrade(conn)
        tables = {t for s in SOURCES.values() for t in s.tables}
        found = {t: existing_columns(conn, t) for t in tables}
    engine.dispose()
    return found


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_good_row_stages_into_its_tables(name: str, staging_columns) -> None:
    staged = stage_rows(name, [GOOD[name]])
    assert staged.quarantine.empty and staged.loaded == {0: 1}
    assert set(staged.tables) == set(SOURCES[name].tables)
    for table, frame in staged.tables.items():
        written = [c for c in frame.columns if c != FILE_NO] + ["batch_id"]
        assert set(written) <= set(staging_columns[table]), table
        assert len(frame) >= 1


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_bad_value_quarantines_its_row_with_the_rule(name: str) -> None:
    column, value, rule = BAD[name]
    bad = {**GOOD[name], **OTHER.get(name, {}), column: value}
    staged = stage_rows(name, [GOOD[name], bad])
    assert staged.loaded == {0: 1} and staged.quarantined == {0: 1}
    assert list(staged.quarantine["row_number"]) == [2]
    assert rule in set(staged.quarantine["rule"])


def test_personal_columns_are_dropped_as_the_file_is_read() -> None:
    prepared = staging.prepare(SOURCES["roster"], pd.DataFrame([GOOD["roster"]], dtype="string"))
    assert not {"first_name", "last_name", "work_email"} & set(prepared.frame.columns)
    staged = stage_rows("roster", [GOOD["roster"]])
    text = staged.tables["stg_roster"].astype(str).to_csv()
    assert "E100" not in text and "Ann" not in text and "ann.lee" not in text
    assert staged.tables["stg_roster"]["employee_key"][0] == REF.pseudonyms.key("E100")


def test_headers_trim_case_and_extra_columns() -> None:
    row = {f"  {k.upper()} ": v for k, v in GOOD["budget"].items()} | {"Comment": "x"}
    prepared = staging.prepare(SOURCES["budget"], pd.DataFrame([row], dtype="string"))
    assert prepared.extra_columns == ["comment"] and not prepared.missing


def test_a_missing_required_column_rejects_the_file_by_name() -> None:
    row = {k: v for k, v in GOOD["roster"].items() if k != "hire_date"}
    prepared = staging.prepare(SOURCES["roster"], pd.DataFrame([row], dtype="string"))
    assert prepared.missing == ["required column 'hire_date' is missing (expect_column_to_exist)"]


def test_survey_answers_are_long_and_codebook_ids_lower_case() -> None:
    answers = stage_rows("survey", [GOOD["survey"]]).tables["stg_survey_answer"]
    assert list(zip(answers.question_id, answers.answer, strict=True)) == [("q01", 4), ("q03", 5)]
    items = stage_rows("survey_items", [GOOD["survey_items"]]).tables["stg_survey_item"]
    assert (items.question_id[0], items.dimension[0], items.survey_year[0]) == (
        "q01",
        "engagement",
        2024,
    )


def paths_error(rows: str) -> str:
    from rxstaff.transforms.catalog import CatalogError, stage_career_paths

    raw = pd.read_csv(io.StringIO("from_job_code,to_job_code,move_type\n" + rows), dtype=str)
    with pytest.raises(CatalogError) as error:
        stage_career_paths(raw, stage_catalog(read_job_catalog()))
    return str(error.value)


def test_career_paths_are_checked_against_the_catalog_naming_the_line() -> None:
    assert paths_error("SPT3,MAPC1,promotion\nSPT9,MAPC1,promotion\n") == (
        "career paths, line 3: from_job_code 'SPT9' is not in the job catalog"
    )
    assert "line 2: from_job_code and to_job_code are the same" in paths_error("SPT1,SPT1,lateral")
    assert "line 2: move_type 'sideways'" in paths_error("SPT1,SPT2,sideways")
    assert "line 3: the move is declared twice" in paths_error(
        "SPT1,SPT2,promotion\nSPT1,SPT2,lateral"
    )


@pytest.mark.parametrize("hire_date", ["0001-01-01", "1900-06-01", "2999-12-31", "9999-12-31"])
def test_a_date_far_outside_the_data_is_quarantined_not_loaded(hire_date: str) -> None:
    bad = {**GOOD["roster"], "employee_id": "E101", "hire_date": hire_date}
    staged = stage_rows("roster", [GOOD["roster"], bad])
    assert staged.loaded == {0: 1} and staged.quarantined == {0: 1}  # the row never loads
    if hire_date < "1950":  # no other rule catches a date long past: the bounds do
        assert set(staged.quarantine.rule) == {"hire_date_within_sanity_bounds"}
        assert "1950-01-01 .. 2099-12-31" in staged.quarantine.detail.iloc[0]
    else:  # a future hire date already breaks the suite's own rules
        assert "hire_date_not_after_snapshot_date" in set(staged.quarantine.rule)


def test_the_sanity_bounds_are_settings() -> None:
    from rxstaff.transforms.catalog import reference

    strict = reference(stage_catalog(read_job_catalog()), "k", (date(2020, 1, 1), date(2030, 1, 1)))
    staged = stage_rows("roster", [GOOD["roster"]], strict)  # hired 2023-05-01: inside
    assert staged.loaded == {0: 1}
    older = {**GOOD["roster"], "hire_date": "2019-12-31"}
    assert set(stage_rows("roster", [older], strict).quarantine.rule) == {
        "hire_date_within_sanity_bounds"
    }


def test_headers_differing_only_by_case_reject_the_file_naming_them() -> None:
    row = {**GOOD["budget"], "FTE": "0.5"}
    prepared = staging.prepare(SOURCES["budget"], pd.DataFrame([row], dtype="string"))
    assert prepared.missing == [
        "headers 'fte', 'FTE' name the same column 'fte' "
        "(headers are matched without case or spaces)"
    ]


def test_a_nul_byte_quarantines_its_row_and_is_never_echoed() -> None:
    bad = {**GOOD["roster"], "employee_id": "E101", "department": "Ops\x00=cmd"}
    staged = stage_rows("roster", [GOOD["roster"], bad])
    assert staged.loaded == {0: 1} and staged.quarantined == {0: 1}
    assert set(staged.quarantine.rule) == {"department_has_no_nul_byte"}
    assert (
        "\x00" not in staged.quarantine.detail.iloc[0]
        and "cmd" not in staged.quarantine.detail.iloc[0]
    )


# --- the declaration gives the staging tables, and the suite holds what the kinds ask ---

# How each engine's information_schema names the declared SQL types.
SHOWN_TYPES = {
    "duckdb": {"TEXT": "VARCHAR", "DOUBLE PRECISION": "DOUBLE", "NUMERIC(14, 2)": "DECIMAL(14,2)"},
    "postgresql": {"TIMESTAMP": "timestamp without time zone", "NUMERIC(14, 2)": "numeric"},
}


def live_columns(conn: sa.Connection, table: str) -> set[tuple[str, str, bool]]:
    rows = conn.execute(
        sa.text(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = :t AND table_schema = current_schema()"
        ),
        {"t": table},
    )
    return {(name, kind.lower(), nullable == "YES") for name, kind, nullable in rows}


def declared_columns(table, dialect: str) -> set[tuple[str, str, bool]]:
    shown = SHOWN_TYPES[dialect]
    return {
        (c.name, shown.get(c.sql_type, c.sql_type).lower(), c.nullable) for c in table.all_columns
    }


def test_the_staging_tables_are_their_sources_declarations(url: str) -> None:
    """The tables the released migrations made, and those made from a declaration alone,
    are what the declarations say: columns, types, nullability."""
    from rxstaff.warehouse.schema import ensure_staging_tables

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        upgrade(conn)
        assert ensure_staging_tables(conn) == []  # the migrations made every one so far
        for src in SOURCES.values():
            for table in src.staging_tables:
                live = live_columns(conn, table.name)
                assert live == declared_columns(table, conn.dialect.name), table.name
                conn.execute(sa.text(f"DROP TABLE {table.name}"))
        made = ensure_staging_tables(conn)
        assert sorted(made) == sorted(t for s in SOURCES.values() for t in s.tables)
        for src in SOURCES.values():
            for table in src.staging_tables:
                live = live_columns(conn, table.name)
                assert live == declared_columns(table, conn.dialect.name), table.name
    engine.dispose()


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_suite_holds_the_rules_its_columns_kinds_ask_for(name: str) -> None:
    """A column that may not be empty has its ``<column>_required`` not-null rule; a date,
    timestamp or integer column its format rule; and every column a rule reads is declared."""
    from rxstaff.expectations.suite import load_suite
    from rxstaff.transforms.source import FORMAT_RULES

    src = SOURCES[name]
    rules = {(e["meta"]["rule"], e["type"]) for e in load_suite(name)["expectations"]}
    for column in src.kept:
        required = (f"{column.name}_required", "expect_column_values_to_not_be_null") in rules
        assert required != column.nullable, f"{name}.{column.name}: nullable={column.nullable}"
        if column.kind in FORMAT_RULES:
            assert {r for r, _ in rules if r == column.name + FORMAT_RULES[column.kind]}, column
    for expectation in load_suite(name)["expectations"]:
        for key in ("column", "column_A", "column_B"):
            read = expectation["kwargs"].get(key)
            assert read is None or read.startswith("_") or read in src.kept_columns, read


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_quarantine_detail_never_quotes_an_id_free_text_or_an_answer(name: str) -> None:
    """warehouse.md v3: a detail quotes codes, dates, numbers and flags only, never a name,
    an e-mail, an employee or supervisor id, free text or a survey answer."""
    from rxstaff.transforms.source import ECHOABLE_KINDS

    src = SOURCES[name]
    secret = "Zq9x Leak"
    quiet = [c.name for c in src.kept if c.kind not in ECHOABLE_KINDS]
    quiet += src.repeating_columns(list(GOOD[name]))
    for column in quiet:
        staged = stage_rows(name, [{**GOOD[name], column: secret}])
        details = " ".join(staged.quarantine["detail"].astype(str))
        assert secret not in details, (column, details)
