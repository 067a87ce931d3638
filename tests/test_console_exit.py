"""The installed ``rxstaff`` command leaves as Python would, less the module teardown.

Each test runs a real process: the console script, or ``rxstaff.cli.main`` in a fresh
interpreter, since the point is what happens when a process ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

RXSTAFF = str(Path(sys.executable).with_name("rxstaff"))

# A fresh interpreter that registers the three things an exit must (or must not) see,
# then runs the command line as the console script does.
PROBE = textwrap.dedent(
    """
    import atexit, sys, threading, time
    from pathlib import Path

    out = Path(sys.argv[1])

    def late_writer():
        time.sleep(0.5)
        (out / "thread").write_text("joined")

    class TornDown:
        def __del__(self):
            (out / "teardown").write_text("ran")

    kept = TornDown()
    threading.Thread(target=late_writer).start()
    atexit.register(lambda: (out / "atexit").write_text("ran"))
    sys.argv = ["rxstaff", *sys.argv[2:]]
    from rxstaff.cli import main
    main()
    """
)


def probe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_exit_joins_threads_runs_exit_handlers_and_skips_the_teardown(tmp_path: Path) -> None:
    done = probe(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("╯"), "the help was cut short: streams not flushed"
    assert (tmp_path / "thread").read_text() == "joined"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists(), "the interpreter tore its modules down"


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


@pytest.mark.parametrize(
    ("status", "code", "stderr"), [(None, 0, ""), (3, 3, ""), ("boom", 1, "boom")]
)
def test_leave_exits_as_sys_exit_would(status: object, code: int, stderr: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"from rxstaff.cli import leave; leave({status!r})"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == code
    assert done.stderr.strip() == stderr


@pytest.mark.usefixtures("prefect_server")
def test_a_night_validated_in_process_ends_written_with_its_status(
    landing_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GX validates a small night in the command's own process: the teardown that exit
    skips is GX's. Everything the run wrote is there, and the status is the run's."""
    from prefect.settings import PREFECT_API_URL

    from rxstaff import settings

    monkeypatch.setenv("RXSTAFF_VALIDATION_DOCS", "on")  # its results and Data Docs kept
    db = tmp_path / "w.duckdb"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    command = [
        RXSTAFF, "nightly", "--landing", str(landing_small), "--warehouse", f"duckdb:///{db}",
        "--run-date", "2030-01-01", "--max-roster-age", "36500",
    ]  # fmt: skip

    first = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "validated with gx" in first.stdout + first.stderr
    project = settings.validation_project(f"duckdb:///{db}")
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
