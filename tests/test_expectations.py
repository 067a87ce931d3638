"""The suites as data, and the three engines that run them, held to the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rxstaff.expectations.sql import NotCompilable, re2, unexpected_when
from rxstaff.expectations.suite import (
    SAMPLE_MIN_ROWS_PER_FILE,
    SAMPLE_ROWS_PER_FILE,
    EnginesDisagree,
    Rule,
    bind_rules,
    cross_check,
    load_suite,
    parameters,
    run_engine,
    sample_for_cross_check,
    sample_rows_per_file,
    validate_chunk,
)
from rxstaff.extract.landing import LandingFile, discover
from rxstaff.extract.reference import read_job_catalog
from rxstaff.transforms import staging
from rxstaff.transforms.catalog import reference as catalog_reference
from rxstaff.transforms.catalog import stage_catalog
from rxstaff.transforms.csv_text import read_extract
from rxstaff.transforms.source import Reference
from rxstaff.transforms.sources import SOURCES, source
from tests.helpers import generated


@pytest.fixture(scope="module")
def landing_bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of a small pharmacy with one row in five corrupted."""
    return generated(tmp_path_factory, "landing_bad", 100, "2023-01-02", "2023-12-29", seed=3,
                     bad_rows=0.2)  # fmt: skip


@pytest.fixture(scope="module")
def reference() -> Reference:
    return catalog_reference(stage_catalog(read_job_catalog()), "x")


def stage_files(
    name: str, files: list[LandingFile], ref: Reference, engine: str
) -> staging.StagedChunk:
    """A chunk of one source's files through prepare, combine, validate and stage."""
    src = source(name)
    prepared = [staging.prepare(src, read_extract(f.path.read_bytes()).frame) for f in files]
    chunk = staging.combine([p.frame for p in prepared], [f.file_date for f in files])
    outcome = validate_chunk(src, chunk, ref, engine)
    return staging.stage(src, chunk, outcome.row_failures, set(outcome.file_errors), ref)


def files_of(landing: Path, name: str) -> list[LandingFile]:
    return [f for f in discover(landing).files if f.source == name]


@pytest.mark.parametrize("source", list(SOURCES))
def test_engines_agree_on_generated_extracts(
    landing_bad: Path, reference: Reference, source: str
) -> None:
    files = files_of(landing_bad, source)
    gx = stage_files(source, files, reference, "gx")
    for engine in ("vectorised", "sql"):
        fast = stage_files(source, files, reference, engine)
        assert gx.quarantined == fast.quarantined and gx.loaded == fast.loaded, engine
        pd.testing.assert_frame_equal(gx.quarantine, fast.quarantine)
        for name in gx.tables:
            pd.testing.assert_frame_equal(gx.tables[name], fast.tables[name])
    if source in ("roster", "budget", "survey"):
        assert len(gx.quarantine) > 0, "the sample plants bad rows in every data source"


# Values where Python's and SQL's rules part ways: Unicode digits (Python's \d takes
# them, RE2's does not), a line break before the end ($ in Python matches before it), NUL,
# quotes, empty cells under row conditions, near-misses of every code list and pattern.
HOSTILE_VALUES = [
    None,
    "E1",
    "E\u0661\u0662\u0663",
    "E12\n",
    "12\nabc",
    "P1",
    "P\uff11",
    "1",
    "1.0",
    "0.5",
    "00.5",
    "1.5",
    ".",
    "0",
    "2024-02-30",
    "2024-01-05",
    "2024-1-5",
    "\u0968\u0966\u0968\u0969",
    "2024-01-05T10:00:00Z",
    "2024-01-05 10:00",
    "2023-12-31T23:59:59+05:30",
    "x",
    "terminated",
    "Terminated",
    "active",
    "released",
    "requested",
    "completed",
    "true",
    "TRUE",
    "false",
    "SPT1",
    "retail",
    "voluntary",
    "\u00e9",
    "'",
    '"',
    "a'b",
    "2023",
    "BR-1",
    "TR-1",
    "C1",
    "q01",
    "Q1",
    "5",
    "7",
    "<1",
    "5+",
    "a\x00b",
    "1e3",
    "99999999999",
    "123456789012",
    "[",
    "]",
]


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_three_engines_agree_rule_by_rule_on_hostile_values(
    reference: Reference, source: str
) -> None:
    """Every rule of every suite, on thousands of rows drawn from values chosen to split
    Python's semantics from SQL's: the same unexpected rows from GX, pandas and SQL."""
    src = SOURCES[source]
    rng = np.random.default_rng(sum(map(ord, source)))
    columns = src.kept_columns + (["q01", "q02"] if src.repeating else [])
    rows = 2000
    pool = np.array(HOSTILE_VALUES, dtype=object)
    chunk = pd.DataFrame(
        {c: pd.array(rng.choice(pool, rows), dtype="string") for c in columns}
        | {
            "_file_no": rng.integers(0, 3, rows),
            "_file_date": pd.array(["2024-01-05"] * rows, dtype="string"),
            "_file_year": pd.array(rng.choice(["2023", "2024"], rows), dtype="string"),
            "_year_start": pd.array(["2023-01-01"] * rows, dtype="string"),
            "_next_year_start": pd.array(["2024-01-01"] * rows, dtype="string"),
        }
    )
    rules = bind_rules(source, parameters(src, chunk, reference))
    found = {engine: run_engine(engine, chunk, rules) for engine in ("gx", "vectorised", "sql")}
    failing = 0
    for position, rule in enumerate(rules):
        rows_by = {
            engine: found[engine].get(position, np.array([], dtype=np.int64)).tolist()
            for engine in found
        }
        assert rows_by["sql"] == rows_by["gx"] == rows_by["vectorised"], rule.rule
        failing += bool(rows_by["gx"])
    assert failing >= len(rules) // 2, "the hostile values should trip most rules"


def test_sql_engine_translates_what_re2_reads_differently() -> None:
    assert re2(r"^E\d+$") == r"^E\p{Nd}+\n?$"  # Unicode digits; $ before a final \n
    assert re2(r"^[\d.]\D[$]$") == r"^[\p{Nd}.]\P{Nd}[$]\n?$"
    assert re2(r"^\\d$") == r"^\\d\n?$"  # an escaped backslash, then a plain d


MATCH = "expect_column_values_to_match_regex"
PAIR = "expect_column_pair_values_to_be_equal"


@pytest.mark.parametrize(
    ("rule", "refused"),
    [
        (Rule(MATCH, {"column": "a", "regex": r"^\w+$"}, "r"), "w"),
        (Rule(MATCH, {"column": "a", "regex": "^(?!x)"}, "r"), r"\?!"),
        (Rule("expect_column_values_to_be_between", {"column": "a"}, "r"), "between"),
        (Rule(PAIR, {"column_A": "a", "column_B": "b"}, "r"), "ignore_row_if"),
        (
            Rule("expect_column_values_to_be_null", {"column": "a", "row_condition": 'b>"1"'}, "r"),
            "row condition",
        ),
    ],
)
def test_sql_engine_refuses_what_it_cannot_hold_equal_to_gx(rule: Rule, refused: str) -> None:
    """A suite edited to use a construct the compiler does not know fails loudly, naming
    it, rather than validating differently from Great Expectations."""
    with pytest.raises(NotCompilable, match=refused):
        unexpected_when(rule)


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns).astype("string").assign(_file_no=0)


def budget_reference() -> Reference:
    return Reference(
        ["SPT1"], [], catalog_reference(stage_catalog(read_job_catalog()), "x").pseudonyms
    )


@pytest.mark.parametrize("engine", ["gx", "vectorised", "sql"])
def test_conditional_and_pair_rules(engine: str) -> None:
    chunk = frame(
        release_id=["BR-1", "BR-2", "BR-3", "BR-4"],
        position_id=["P1"] * 4,
        action=["backfill"] * 4,
        job_code=["SPT1"] * 4,
        pharmacy_model=["retail"] * 4,
        fte=["1", "0.5", "1.5", "0"],
        annual_amount=["100", "-1", "2.5", "3"],
        requested_date=["2024-01-05", "2024-01-05", "2024-02-30", "2024/01/05"],
        released_date=[None, "2024-01-01", None, None],
        status=["released", "released", "requested", "requested"],
        record_updated_at=["2024-01-05T10:00:00", "2024-01-05 10:00", "2024-01-05T10:00:00Z", "x"],
    )
    outcome = validate_chunk(SOURCES["budget"], chunk, budget_reference(), engine)
    failed = outcome.row_failures.groupby("index")["rule"].apply(set).to_dict()
    assert "released_date_set_when_released" in failed[0]
    assert {
        "released_date_not_before_requested_date",
        "annual_amount_is_non_negative_number",
    } <= failed[1]
    assert (
        "fte_greater_than_0_at_most_1" in failed[2] and "fte_greater_than_0_at_most_1" in failed[3]
    )
    assert {"requested_date_is_iso_date", "record_updated_at_is_iso_timestamp"} <= failed[3]
    assert 2 not in failed or "requested_date_is_iso_date" not in failed[2]  # shape is fine...


def test_impossible_calendar_date_is_quarantined_at_cast(
    reference: Reference, tmp_path: Path
) -> None:
    path = tmp_path / "budget" / "budget_releases_2024-01-05.csv"
    path.parent.mkdir()
    path.write_text(
        "release_id,position_id,action,job_code,pharmacy_model,fte,annual_amount,requested_date,"
        "released_date,status,record_updated_at\n"
        "BR-1,P1,backfill,SPT1,retail,1,10,2024-02-30,,requested,2024-01-05T10:00:00\n"
        "BR-2,P1,backfill,SPT1,retail,1,10,2024-01-05,,requested,2024-01-05T25:00:00\n"
        "BR-3,P1,backfill,SPT1,retail,1,10,2024-01-05,,requested,2024-01-05T10:00:00\n"
    )
    file = LandingFile(
        "budget", path, "budget/" + path.name, pd.Timestamp("2024-01-05").date(), "0"
    )
    staged = stage_files("budget", [file], reference, "vectorised")
    assert list(staged.quarantine.rule) == [
        "requested_date_is_calendar_date",
        "record_updated_at_is_real_timestamp",
    ]
    assert list(staged.tables["stg_budget_release"].release_id) == ["BR-3"]


def test_suites_are_valid_gx_suites_with_named_rules() -> None:
    import great_expectations as gx

    for name in SOURCES:
        document = load_suite(name)
        assert document["name"] and document["expectations"]
        for rule in bind_rules(
            name, {"job_codes": ["X"], "job_families": ["Y"], "question_columns": ["q01"]}
        ):
            assert rule.rule
            gx.expectations.registry.get_expectation_impl(rule.type)(**rule.kwargs)


def test_personal_columns_never_reach_validation() -> None:
    chunk = frame(first_name=["Ann"], employee_id=["E1"])
    with pytest.raises(ValueError, match="personal columns"):
        validate_chunk(SOURCES["roster"], chunk, budget_reference(), "gx")
    assert SOURCES["roster"].personal_columns == ["first_name", "last_name", "work_email"]


def test_missing_column_names_the_column() -> None:
    header = pd.DataFrame(columns=["snapshot_date", "employee_id"])
    errors = staging.missing_columns(SOURCES["roster"], header)
    assert any("'hire_date'" in e for e in errors)


@pytest.mark.parametrize("source", list(SOURCES))
def test_great_expectations_checks_a_sample_of_what_the_vectorised_engine_judged(
    landing_bad: Path, reference: Reference, source: str
) -> None:
    files = files_of(landing_bad, source)
    src = SOURCES[source]
    prepared = [staging.prepare(src, read_extract(f.path.read_bytes()).frame) for f in files]
    chunk = staging.combine([p.frame for p in prepared], [f.file_date for f in files])
    per_file = sample_rows_per_file(len(prepared))
    assert SAMPLE_MIN_ROWS_PER_FILE <= per_file <= SAMPLE_ROWS_PER_FILE
    assert cross_check(src, sample_for_cross_check(chunk), reference) == sum(
        min(len(p.frame), per_file) for p in prepared
    )


def test_a_chunk_of_many_small_files_samples_every_file_more_thinly() -> None:
    files, rows = 2_000, 60
    chunk = pd.DataFrame(
        {"_file_no": np.repeat(np.arange(files), rows), "row": np.tile(np.arange(rows), files)}
    )
    sample = sample_for_cross_check(chunk)
    per_file = sample.groupby("_file_no")["row"]
    assert per_file.ngroups == files  # still every file
    assert (per_file.min() == 0).all()  # from its first row
    assert len(sample) < len(chunk) / 2
    assert per_file.size().min() >= SAMPLE_MIN_ROWS_PER_FILE
    few = chunk[chunk["_file_no"] < 3]
    assert len(sample_for_cross_check(few)) == len(few)  # 60 rows each: all of them


@pytest.mark.parametrize(
    ("engine", "module", "function"),
    [("vectorised", "suite", "_run_vectorised"), ("sql", "sql", "run_sql")],
)
def test_an_engine_that_strays_from_gx_fails_the_check(
    landing_bad: Path,
    reference: Reference,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    module: str,
    function: str,
) -> None:
    import importlib

    target = importlib.import_module(f"rxstaff.expectations.{module}")
    files = files_of(landing_bad, "roster")
    src = SOURCES["roster"]
    prepared = [staging.prepare(src, read_extract(f.path.read_bytes()).frame) for f in files]
    chunk = staging.combine([p.frame for p in prepared], [f.file_date for f in files])
    real = getattr(target, function)
    # An injected fault: the engine flags a row GX passes (as a drifted engine would).
    monkeypatch.setattr(target, function, lambda f, r: {**real(f, r), **{0: np.array([0])}})
    with pytest.raises(EnginesDisagree, match=f"Great Expectations found.*the {engine} engine"):
        cross_check(src, chunk, reference, engine)
