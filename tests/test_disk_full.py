"""A disk that fills during a history load: the working copy is deleted, the warehouse is
as it was, the failure is recorded in etl_run and etl_batch, and the message says what
happened. On a real small filesystem (a tmpfs; mounting one needs root, as CI has)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rxstaff.warehouse import transaction as transaction_module
from tests.helpers import hold_back_rosters, query, read, run_nightly


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    yield mount
    subprocess.run(["umount", str(mount)], check=False, capture_output=True)


def mount_tmpfs(mount: Path, size_kb: int) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs: {done.stderr.strip()}")


def test_a_full_disk_during_a_history_load_leaves_the_warehouse_as_it_was(
    landing_small: Path, tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing_small, 3)
    assert run_nightly(landing_small, built)[0] == 0
    size_kb = built.stat().st_size // 1024
    mount_tmpfs(small_disk, int(size_kb * 1.4) + 64)  # room for the file, not its copy
    warehouse = small_disk / "w.duckdb"
    shutil.copyfile(built, warehouse)
    before = query(warehouse, "SELECT COUNT(*) AS n FROM stg_roster").n[0]
    arrive()
    monkeypatch.setattr(transaction_module, "HISTORY_LOAD_MIN_BYTES", 0)  # on a copy
    code, error = run_nightly(landing_small, warehouse)
    assert code == 2
    assert "No space left on device" in str(error)
    # no working copy left (the run lock's file stays, empty, for the next run)
    assert sorted(p.name for p in small_disk.iterdir()) == ["w.duckdb", "w.duckdb.lock"]
    assert query(warehouse, "SELECT COUNT(*) AS n FROM stg_roster").n[0] == before
    runs = query(warehouse, "SELECT status, error FROM etl_run ORDER BY started_at")
    assert list(runs.status) == ["succeeded", "failed"]
    assert "No space left on device" in runs.error.iloc[-1]
    failed = query(warehouse, "SELECT COUNT(*) AS n FROM etl_batch WHERE status = 'failed'")
    assert failed.n[0] == 3  # the three files it tried: retried by the next run


def failed_for_want_of_space(outcome: tuple[int, object], url: str) -> None:
    """The night failed for the full disk, said so, and is recorded after a succeeded one."""
    code, error = outcome
    assert code == 2 and "No space left on device" in str(error)
    runs = read(url, "SELECT status, error FROM etl_run ORDER BY started_at")
    assert list(runs.status) == ["succeeded", "failed"]
    assert "No space left on device" in runs.error.iloc[-1]


def du_kb(path: Path) -> int:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) // 1024


# Room beside the warehouse (KiB) such that the disk fills while GX lays out a new
# project, while the night's results are written, and at the commit's write-ahead log.
ROOM_KB = [8, 24, 96]


@pytest.mark.parametrize("room_kb", ROOM_KB)
def test_a_disk_that_fills_under_the_validation_results_breaks_one_night_only(
    landing_small: Path,
    tmp_path: Path,
    small_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    room_kb: int,
) -> None:
    """The night's validation results fill the disk beside the warehouse: that night
    fails, is rolled back and says so in etl_run and etl_batch; once there is room, the
    next night loads everything, its validation project sound."""
    built = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing_small, 3)
    assert run_nightly(landing_small, built)[0] == 0
    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")
    mount_tmpfs(small_disk, du_kb(built) + room_kb)
    warehouse = small_disk / "w.duckdb"
    shutil.copyfile(built, warehouse)
    arrive()
    failed_for_want_of_space(run_nightly(landing_small, warehouse), f"duckdb:///{warehouse}")
    failed = query(warehouse, "SELECT COUNT(*) AS n FROM etl_batch WHERE status = 'failed'")
    assert failed.n[0] == 3
    assert not [p for p in small_disk.rglob("*") if p.name.endswith((".tmp", ".partial"))]

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    code, summary = run_nightly(landing_small, warehouse)
    assert code == 0 and summary.sources["roster"].files_loaded == 3
    assert summary.validation_docs and Path(summary.validation_docs).is_file()


def test_a_validation_project_left_broken_is_written_anew(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash or a full disk inside GX's own write left its configuration empty: every
    later night failed in gx.get_context. Now the night warns, sets it aside, and loads."""
    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")
    warehouse = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing_small, 1)
    assert run_nightly(landing_small, warehouse)[0] == 0
    config = tmp_path / "w.gx" / "gx" / "uncommitted" / "config_variables.yml"
    project = tmp_path / "w.gx" / "gx" / "great_expectations.yml"
    config.write_bytes(b"")
    project.write_text("{unclosed", encoding="utf-8")
    arrive()
    code, summary = run_nightly(landing_small, warehouse)
    assert code == 0 and summary.sources["roster"].files_loaded == 1
    assert config.with_name("config_variables.yml.broken").exists()
    assert project.stat().st_size > 0 and "{unclosed" not in project.read_text(encoding="utf-8")
    assert len(list((tmp_path / "w.gx").rglob("*.json"))) > 1  # earlier results kept


def test_a_full_disk_under_a_postgresql_warehouses_results_is_recorded_in_the_database(
    landing_small: Path, pg_url: str, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL warehouse keeps its validation results on the worker's disk: that disk
    full fails the night, rolled back and recorded in the database; with room again, the
    next night loads everything."""
    _, arrive = hold_back_rosters(landing_small, 3)
    assert run_nightly(landing_small, pg_url)[0] == 0
    mount_tmpfs(small_disk, 8)
    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")
    monkeypatch.setenv("RXSTAFF_GX_DIR", str(small_disk / "gx"))
    arrive()
    failed_for_want_of_space(run_nightly(landing_small, pg_url), pg_url)
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    code, summary = run_nightly(landing_small, pg_url)
    assert code == 0 and summary.sources["roster"].files_loaded == 3
