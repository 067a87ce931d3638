"""The suites as data, and the two engines that run them, held to the same results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rxstaff.expectations.suite import (
    SAMPLE_ROWS_PER_FILE,
    EnginesDisagree,
    bind_rules,
    cross_check,
    load_suite,
    validate_chunk,
)
from rxstaff.flows.landing import LandingFile, discover, read_extract, read_job_catalog
from rxstaff.transforms import staging
from rxstaff.transforms.catalog import reference as catalog_reference
from rxstaff.transforms.catalog import stage_catalog
from rxstaff.transforms.source import Reference
from rxstaff.transforms.sources import SOURCES, source


@pytest.fixture(scope="module")
def landing_bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of a small pharmacy with one row in five corrupted."""
    from datetime import date

    from rxstaff.sample import Options, generate

    out = tmp_path_factory.mktemp("landing_bad")
    generate(
        Options(
            out=out,
            employees=100,
            start=date(2023, 1, 2),
            end=date(2023, 12, 29),
            seed=3,
            bad_rows=0.2,
        )
    )
    return out


@pytest.fixture(scope="module")
def reference() -> Reference:
    return catalog_reference(stage_catalog(read_job_catalog()), "x")


def stage_files(
    name: str, files: list[LandingFile], ref: Reference, engine: str
) -> staging.StagedChunk:
    """A chunk of one source's files through prepare, combine, validate and stage."""
    src = source(name)
    prepared = [staging.prepare(src, read_extract(f.path).frame) for f in files]
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
    fast = stage_files(source, files, reference, "vectorised")
    assert gx.quarantined == fast.quarantined and gx.loaded == fast.loaded
    pd.testing.assert_frame_equal(gx.quarantine, fast.quarantine)
    for name in gx.tables:
        pd.testing.assert_frame_equal(gx.tables[name], fast.tables[name])
    if source in ("roster", "budget", "survey"):
        assert len(gx.quarantine) > 0, "the sample plants bad rows in every data source"


def frame(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns).astype("string").assign(_file_no=0)


def budget_reference() -> Reference:
    return Reference(
        ["SPT1"], [], catalog_reference(stage_catalog(read_job_catalog()), "x").pseudonyms
    )


@pytest.mark.parametrize("engine", ["gx", "vectorised"])
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
    prepared = [staging.prepare(src, read_extract(f.path).frame) for f in files]
    chunk = staging.combine([p.frame for p in prepared], [f.file_date for f in files])
    assert cross_check(src, chunk, reference) == min(len(chunk), sum(
        min(len(p.frame), SAMPLE_ROWS_PER_FILE) for p in prepared
    ))  # fmt: skip


def test_a_vectorised_engine_that_strays_from_gx_fails_the_check(
    landing_bad: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rxstaff.expectations.suite as suite_module

    files = files_of(landing_bad, "roster")
    src = SOURCES["roster"]
    prepared = [staging.prepare(src, read_extract(f.path).frame) for f in files]
    chunk = staging.combine([p.frame for p in prepared], [f.file_date for f in files])
    real = suite_module._run_vectorised
    # An injected fault: the twin forgets one rule's failures (as a drifted engine would).
    monkeypatch.setattr(
        suite_module, "_run_vectorised", lambda f, r: {**real(f, r), **{0: np.array([0])}}
    )
    with pytest.raises(EnginesDisagree, match="Great Expectations found"):
        cross_check(src, chunk, reference)
