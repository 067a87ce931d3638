"""The installed ``rxstaff`` command ends with the run's status and everything written.

Each test runs a real process, since the point is what happens when a process ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

RXSTAFF = str(Path(sys.executable).with_name("rxstaff"))


def probe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command in a fresh process."""
    return subprocess.run(
        [RXSTAFF, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_help_is_printed_whole(tmp_path: Path) -> None:
    done = probe(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("╯"), "the help was cut short: streams not flushed"


def test_exit_keeps_the_command_status(tmp_path: Path) -> None:
    unknown = probe(tmp_path, "nightly", "--no-such-option")
    assert unknown.returncode == 2
    assert "No such option" in unknown.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("RXSTAFF_ID_SECRET")}
    no_secret = subprocess.run(
        [RXSTAFF, "nightly", "--landing", str(tmp_path), "--warehouse", "duckdb:///:memory:"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert no_secret.returncode == 2
    assert "RXSTAFF_ID_SECRET" in no_secret.stdout + no_secret.stderr


def test_a_night_validated_in_process_ends_written_with_its_status(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX validates a small night in the command's own process, with no Prefect server
    configured (none is started). Everything the run wrote is there, the status is the
    run's, and the process leaves nothing running."""
    from rxstaff import settings

    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")  # its results and Data Docs kept
    db = tmp_path / "w.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    command = [
        RXSTAFF, "nightly", "--landing", str(landing_small), "--warehouse", f"duckdb:///{db}",
        "--run-date", "2030-01-01", "--max-roster-age", "36500",
    ]  # fmt: skip

    first = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "validated with gx" in first.stdout + first.stderr
    # no Prefect server, not even a temporary one (the budget watch asks none for settings)
    assert "temporary server" not in (first.stdout + first.stderr).lower()
    project = settings.validation_project(settings.warehouse(f"duckdb:///{db}"))
    assert project is not None
    assert list(project.glob("**/data_docs/local_site/validations/**/*.html")), "no Data Docs"

    bad = landing_small / "budget" / "budget_releases_2029-12-31.csv"
    bad.write_text("release_id,position_id\nBR-X,P-1\n", encoding="utf-8")
    second = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert second.returncode == 1, second.stdout[-3000:] + second.stderr[-3000:]

    assert not Path(f"{db}.wal").exists(), "the warehouse was left with an unapplied log"
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("SELECT status FROM etl_run ORDER BY started_at").fetchall()
        rejected = con.execute(
            "SELECT COUNT(*) FROM etl_batch WHERE file_name = ? AND status = 'rejected'",
            [f"budget/{bad.name}"],
        ).fetchone()[0]
    assert [status for (status,) in runs] == ["succeeded", "rejected files"], runs
    assert rejected == 1
