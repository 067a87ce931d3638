"""Great Expectations as its users know it: standard suites, results stored per file in a
file-backed GX project, and Data Docs a person can open (in Debian's chromium, offline)
that show the run's expectations with the failed ones."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from rxstaff.expectations.results import (
    ALL_PAGES_MAX,
    INDEX_RESULTS_MAX,
    FileResult,
    ValidationStore,
    listed_once,
)
from rxstaff.expectations.suite import bind_rules
from rxstaff.transforms.sources import SOURCES
from tests.helpers import chromium, needs_chromium, run_nightly

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "data-docs"


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_suite_file_is_a_standard_gx_expectation_suite(name: str) -> None:
    import great_expectations as gx

    document = json.loads((ROOT / "expectations" / SOURCES[name].suite).read_text("utf-8"))
    suite = gx.ExpectationSuite(**document)
    assert len(suite.expectations) == len(document["expectations"]) > 0
    assert "$param" not in json.dumps(document) and "$each" not in json.dumps(document)


@needs_chromium
def test_data_docs_show_the_failed_expectations_of_a_file_with_bad_rows(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")  # the default, which conftest turns off
    target = sorted((landing_small / "roster").glob("*.csv"))[3]
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    fte = [h.strip().lower() for h in rows[0]].index("fte")
    rows[1][fte] = "1.5"  # a bad row: FTE above 1
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    db = tmp_path / "w.duckdb"
    code, summary = run_nightly(landing_small, db)
    assert code == 0 and summary.validation_docs
    index = Path(summary.validation_docs)
    project = db.with_name("w.gx")
    assert index.is_file() and project in index.parents
    pages = [p for p in index.parent.rglob("*.html") if target.stem in p.name]
    assert len(pages) == 1, pages
    stored = "\n".join(p.read_text("utf-8") for p in project.rglob("*.json"))
    assert not re.search(r"\bE\d{4,}\b", stored)  # counts only: no employee id is kept

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_context(offline=True).new_page()
        page.goto(index.as_uri())
        listing = page.inner_text("body")
        page.goto(pages[0].as_uri())
        shown = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "roster_file.png"), full_page=True)
        browser.close()
    # The results page lists every file of the run, offline: GX's own index draws its
    # table with scripts from CDNs, which an offline browser never fetches.
    assert index.name == "results.html" and "Validation Results" in listing
    assert summary.run_id in listing and f"roster/{target.name}" in listing
    assert "failed" in listing.split(f"roster/{target.name}", 1)[1].split("\n", 1)[0]
    assert "fte" in shown and "Failed" in shown
    assert "1 unexpected" in shown or "unexpected" in shown


def record_files(store: ValidationStore, count: int, failing: set[int], run: str) -> None:
    """``count`` budget files' results in one run, a rule failing in those of ``failing``."""
    rules = bind_rules(
        "budget", {"job_codes": ["SPT1"], "job_families": [], "question_columns": []}
    )
    for number in range(count):
        unexpected = {"status_in_allowed_values": 1} if number in failing else {}
        name = f"budget/budget_releases_{number:04d}.csv"
        store.record(FileResult("budget_release", rules, unexpected, 3, run, name, "sql"))


def rendered_results(index: Path) -> set[str]:
    return {p.stem for p in (index.parent / "validations").rglob("*.html")}


def test_a_run_of_many_files_renders_pages_only_for_the_files_where_a_rule_failed(
    tmp_path: Path,
) -> None:
    """The README's promise for history loads: over ALL_PAGES_MAX files, the pages of the
    files with failures and the index; every file's result is stored all the same."""
    store = ValidationStore(tmp_path / "gx")
    record_files(store, ALL_PAGES_MAX + 5, {7, 150}, "history")
    index = store.build_docs()
    assert rendered_results(index) == {
        "budget__budget_releases_0007.csv",
        "budget__budget_releases_0150.csv",
    }
    stored = list((tmp_path / "gx").rglob("validations/budget_release/**/*.json"))
    assert len(stored) == ALL_PAGES_MAX + 5

    nightly = ValidationStore(tmp_path / "gx")  # a night of a few files: every page
    record_files(nightly, 3, set(), "night")
    assert len(rendered_results(nightly.build_docs())) == 2 + 3


def test_the_data_docs_index_lists_the_latest_results_up_to_its_limit(tmp_path: Path) -> None:
    """Years of nightly files must not make each night's index slower: it lists the most
    recent results only (INDEX_RESULTS_MAX in production; 4 here, over six runs)."""
    runs = [f"run-{n}" for n in range(6)]
    for run in runs:
        store = ValidationStore(tmp_path / "gx", index_limit=4)
        record_files(store, 1, set(), run)
        index = store.build_docs()
    listed = index.read_text("utf-8")
    assert [run for run in runs if run in listed] == runs[2:]
    assert INDEX_RESULTS_MAX == 1000


def test_a_data_docs_build_lists_the_keys_gx_lists(tmp_path: Path) -> None:
    """A build lists the stored results once, without GX's dateutil parse of each run time:
    the same keys, run times included, also for a result whose run time GX wrote in
    another format (left to GX); outside a build the store lists as GX does."""
    for run in ("run-a", "run-b"):
        record_files(ValidationStore(tmp_path / "gx"), 3, {1}, run)
    [stored] = list((tmp_path / "gx").rglob("run-a/*/budget__budget_releases_0001.csv.json"))
    other = stored.parent.parent / "2026-11-26T10:00:00+00:00" / stored.name
    other.parent.mkdir()
    other.write_bytes(stored.read_bytes())
    results = ValidationStore(tmp_path / "gx").context.validation_results_store
    expected = results.list_keys()
    with listed_once(results):
        ours = results.list_keys()
    assert len(ours) == len(expected) == 7
    assert set(ours) == set(expected)
    assert sorted(k.run_id.run_time for k in ours) == sorted(k.run_id.run_time for k in expected)
    assert "list_keys" not in vars(results)
