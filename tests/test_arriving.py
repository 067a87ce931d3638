"""Files that move under the run: landing folders are filled by SFTP and exports that take
time. A file that vanishes or changes between discovery and reading is left for the next
run (the bytes parsed are the bytes hashed); a file still being written waits; the rest
of the night loads. On a real DuckDB file and a real PostgreSQL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from rxstaff.extract import due as due_module
from rxstaff.extract import landing as landing_module
from rxstaff.extract.landing import discover
from tests.helpers import CONTRACT, comparable, read, run_nightly


def after_discovery(monkeypatch: pytest.MonkeyPatch, act) -> None:
    """Let the real discovery run, then change the real folder, as a sender would."""

    def discover_then_act(*args, **kwargs):
        found = landing_module.discover(*args, **kwargs)
        act()
        return found

    monkeypatch.setattr(due_module, "discover", discover_then_act)


def test_a_file_that_vanishes_is_skipped_and_the_rest_loads(
    landing_small: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    gone = rosters[4]
    after_discovery(monkeypatch, gone.unlink)
    code, summary = run_nightly(landing_small, url)
    assert code == 0
    assert summary.sources["roster"].files_loaded == len(rosters) - 1
    assert summary.sources["roster"].files_deferred == 1
    names = set(read(url, "SELECT file_name FROM etl_batch").file_name)
    assert f"roster/{gone.name}" not in names and len(names) > len(rosters)


def test_a_file_rewritten_under_the_run_loads_next_night_as_its_final_version(
    landing_small: Path, url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    moving = rosters[6]
    final = moving.read_bytes()
    half = final[: len(final) // 2]  # the sender's first half; discovery sees it
    moving.write_bytes(half)
    after_discovery(monkeypatch, lambda: moving.write_bytes(final))
    code, summary = run_nightly(landing_small, url)
    assert code == 0 and summary.sources["roster"].files_deferred == 1
    monkeypatch.undo()
    code, summary = run_nightly(landing_small, url)
    assert code == 0 and summary.sources["roster"].files_loaded == 1
    batch = read(url, f"SELECT sha256 FROM etl_batch WHERE file_name = 'roster/{moving.name}'")
    assert len(batch) == 1  # never loaded half-written
    # Same rows as a clean load of the final folder.
    clean = f"duckdb:///{tmp_path / 'clean.duckdb'}"
    assert run_nightly(landing_small, clean)[0] == 0
    for name in ("dim_employee", "fct_career_event", "etl_quarantine"):
        columns = ", ".join(CONTRACT[name]) if name in CONTRACT else "rule, row_number"
        sql = f"SELECT {columns} FROM {name}"
        pd.testing.assert_frame_equal(
            comparable(read(url, sql)), comparable(read(clean, sql)), check_dtype=False, obj=name
        )


def test_files_still_arriving_wait_for_a_later_run(
    landing_small: Path, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rosters = sorted((landing_small / "roster").glob("*.csv"))
    old = time.time() - 3600
    for path in landing_small.rglob("*.csv"):
        os.utime(path, (old, old))
    fresh = rosters[-1]
    fresh.touch()  # written a moment ago
    (landing_small / "roster" / "roster_2030-01-01.csv.part").write_text("snapshot_date\n")
    monkeypatch.setenv("RXSTAFF_SETTLE_SECONDS", "600")
    code, summary = run_nightly(landing_small, url)
    assert code == 0
    assert summary.sources["roster"].files_loaded == len(rosters) - 1
    assert summary.sources["roster"].files_deferred == 2  # the fresh file and the .part
    os.utime(fresh, (old, old))  # it has settled
    code, summary = run_nightly(landing_small, url)
    assert code == 0 and summary.sources["roster"].files_loaded == 1


def test_done_markers_are_honoured_where_the_sender_writes_them(tmp_path: Path) -> None:
    roster = tmp_path / "roster"
    roster.mkdir()
    for day in ("2024-01-01", "2024-01-08"):
        (roster / f"roster_{day}.csv").write_text("snapshot_date\n")
    (roster / "roster_2024-01-01.csv.done").write_text("")
    found = discover(tmp_path)
    assert [f.file_name for f in found.files] == ["roster/roster_2024-01-01.csv"]
    assert found.arriving == [("roster", "roster/roster_2024-01-08.csv")]
    assert found.unrecognised == []  # markers and partial files are expected, not strangers


def test_a_file_rewritten_in_place_is_read_again_whatever_its_modification_time(
    landing_small: Path, url: str
) -> None:
    """A run keeps the hash of a file whose size and times are as the last run recorded
    them. A roster rewritten in place with the same size and its modification time set
    back still changed its change time: it is read, and loads as a correction. ``rehash``
    reads every file."""
    copied_by = time.time()  # the fixture copied the folder before the test began
    files = discover(landing_small).files
    assert run_nightly(landing_small, url)[0] == 0  # files copied a moment ago: racy
    time.sleep(max(0.0, copied_by + landing_module.RACY_NS / 1e9 - time.time()))
    assert run_nightly(landing_small, url)[0] == 0  # older now: read and recorded
    code, summary = run_nightly(landing_small, url)
    assert code == 0 and summary.files_hashed == 0
    target = sorted((landing_small / "roster").glob("*.csv"))[3]
    header, first, second, *rest = target.read_bytes().splitlines(keepends=True)
    before = target.stat()
    target.write_bytes(b"".join([header, second, first, *rest]))  # same bytes, rows swapped
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (target.stat().st_size, target.stat().st_mtime_ns) == (
        before.st_size,
        before.st_mtime_ns,
    )
    code, summary = run_nightly(landing_small, url)
    assert code == 0 and summary.files_hashed >= 1
    assert summary.sources["roster"].files_loaded == 1
    batches = read(
        url, f"SELECT superseded_by FROM etl_batch WHERE file_name = 'roster/{target.name}'"
    )
    assert len(batches) == 2 and batches.superseded_by.notna().sum() == 1
    code, summary = run_nightly(landing_small, url, rehash=True)
    assert code == 0 and summary.files_hashed == len(files)
    assert summary.sources["roster"].files_loaded == 0


def test_a_folder_whose_every_file_is_still_arriving_says_so(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RXSTAFF_SETTLE_SECONDS", "3600")
    extracts = [p for p in landing_small.rglob("*.csv") if "_truth" not in p.parts]
    for path in extracts:
        os.utime(path)  # every file written just now
    files = len(extracts)
    code, summary = run_nightly(landing_small, tmp_path / "w.duckdb")
    assert code == 1 and summary.landing_problem is not None
    _, message = summary.landing_problem
    assert f"{files} file(s) still arriving, left for the next run" in message
    assert "holds no file" not in message
