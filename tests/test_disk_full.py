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
from tests.helpers import hold_back_rosters, query, run_nightly


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
