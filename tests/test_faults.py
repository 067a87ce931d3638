"""Real faults, from outside the run (issue 33): odd files in the landing folder, a run
stopped (SIGTERM) or killed (SIGKILL) at each of its steps, a disk that fills under the
validation results. Each is one file's or one run's problem: the rest of the night loads,
nothing of the run is left behind, and the next run is clean.

The run is the real command in a process of its own, as cron, systemd or a worker start
it, without a Prefect server (a standalone run starts none)."""

from __future__ import annotations

import codecs
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import generated, read
from tests.processes import nightly, standalone

EMPTY = "the file is empty: no header row"


def batches(url: str) -> pd.DataFrame:
    return read(url, "SELECT file_name, status, rows_loaded, error FROM etl_batch")


def plant_odd_files(landing: Path, outside: Path) -> dict[str, str]:
    """Odd files named like extracts; each file's expected reason for its rejection."""
    roster, header = landing / "roster", _header(landing / "roster")
    planted = {
        "roster_2023-10-02.csv": (b"", EMPTY),
        "roster_2023-10-03.csv": (codecs.BOM_UTF8, EMPTY),
        "roster_2023-10-04.csv": (b"\n\r\n\n", EMPTY),
        "roster_2023-10-05.csv": (f"{header}\n".encode(), "no data rows"),
        "roster_2023-10-06.csv": (_long_cell(header), "longer than 131,072 characters"),
    }
    for name, (data, _) in planted.items():
        (roster / name).write_bytes(data)
    expected = {f"roster/{name}": reason for name, (_, reason) in planted.items()}
    out = "refused unread: a link to a file outside the landing folder"
    os.mkfifo(outside / "pipe")  # a run that opened it would wait for a writer forever
    (roster / "roster_2023-10-09.csv").symlink_to(outside / "pipe")
    (roster / "roster_2023-10-10.csv").symlink_to("/etc/passwd")
    os.mkfifo(roster / "roster_2023-10-11.csv")
    expected |= {
        "roster/roster_2023-10-09.csv": out,
        "roster/roster_2023-10-10.csv": out,
        "roster/roster_2023-10-11.csv": "refused unread: a FIFO (named pipe), not a regular file",
    }
    if os.geteuid() == 0:  # a device node needs root (CI has it): /dev/null's numbers
        os.mknod(roster / "roster_2023-10-12.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected["roster/roster_2023-10-12.csv"] = "a character device, not a regular file"
    return expected


def _header(folder: Path) -> str:
    first = min(folder.glob("*.csv"))
    return first.read_text(encoding="utf-8-sig").splitlines()[0]


def _long_cell(header: str) -> bytes:
    """A roster whose one row holds a 50 MB department."""
    names = header.split(",")
    long = [n.strip().strip('"').strip().lower() == "department" for n in names]
    assert any(long)
    cells = ["x" * 50_000_000 if is_long else "1" for is_long in long]
    return f"{header}\n{','.join(cells)}\n".encode()


@pytest.mark.parametrize("url", ["duckdb", "postgresql"], indirect=True)
def test_odd_files_are_each_one_files_problem(
    landing_small: Path, url: str, tmp_path: Path
) -> None:
    rosters = len(list((landing_small / "roster").glob("*.csv")))
    outside = tmp_path / "outside"
    outside.mkdir()
    expected = plant_odd_files(landing_small, outside)
    budget = min((landing_small / "budget").glob("*.csv"))
    (budget.parent / "budget_releases_2023-10-02.csv").write_text(_header(budget.parent) + "\n")

    done = subprocess.run(
        nightly(landing_small, url), env=standalone(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 1, done.stderr  # loaded, with files that need attention
    found = batches(url)
    rejected = found[found.status == "rejected"].set_index("file_name").error.to_dict()
    assert sorted(rejected) == sorted(expected)
    for name, reason in expected.items():
        assert reason in rejected[name], name
    loaded = found[found.status == "loaded"]
    assert loaded.file_name.str.startswith("roster/").sum() == rosters  # the rest loaded
    empty_log = loaded[loaded.file_name == "budget/budget_releases_2023-10-02.csv"]
    assert list(empty_log.rows_loaded) == [0]  # a log of changes may have none
    everything = done.stdout + done.stderr + found.to_csv()
    assert "root:" not in everything  # /etc/passwd was never read
    assert done.stderr.count("rebuilt ") == 1  # each log line once on the console

    again = subprocess.run(
        nightly(landing_small, url), env=standalone(), capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr  # each refusal recorded once, not each night
    assert len(batches(url)) == len(found)


# --- a run stopped or killed at each of its steps ----------------------------------------

# A line each step logs as it begins (the run's console log, standalone).
STEPS = {
    "staging": "chunk(s), validated with",
    "model build": "roster history:",
    "commit": "rebuilt ",
}


@pytest.fixture(scope="module")
def landing_large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large enough (over 4 MiB) for GX's companion process to run beside the load."""
    return generated(tmp_path_factory, "landing_large", 500, "2023-01-02", "2023-12-29", seed=7)


def session_processes(session: int) -> list[str]:
    """Every live process of a session: the run and all it started, wherever reparented."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def stop_at(command: list[str], step: str, sig: signal.Signals) -> tuple[int, str]:
    """Start the run in a session of its own, send ``sig`` to the run's process alone (as
    the OOM killer or a scheduler's stop does) once it logs ``step``; its exit status and
    output."""
    run = subprocess.Popen(
        command, env=standalone(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert run.stdout is not None
    lines = []
    for line in run.stdout:
        lines.append(line)
        if STEPS[step] in line:
            run.send_signal(sig)
            break
    lines += run.stdout.readlines()
    code = run.wait(timeout=120)
    deadline = time.monotonic() + 30
    while (left := session_processes(run.pid)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"left running after {sig.name} at {step}: {left}"
    return code, "".join(lines)


@pytest.mark.slow  # six runs stopped and six run again: CI runs them in `make test-slow`
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("step", list(STEPS))
def test_a_stopped_run_leaves_nothing_behind(
    landing_large: Path, tmp_path: Path, step: str, sig: signal.Signals
) -> None:
    db = tmp_path / "w.duckdb"
    url = f"duckdb:///{db}"
    command = nightly(landing_large, url, "--dask", "local", "--validation", "sql")
    code, output = stop_at(command, step, sig)
    assert STEPS[step] in output
    if sig is signal.SIGTERM:
        assert code == 2, output  # ended as a failure does: rolled back, recorded
        assert "stopped by SIGTERM" in output
        runs = read(url, "SELECT status, error FROM etl_run")
        assert list(runs.status) == ["failed"] and "stopped by SIGTERM" in runs.error[0]
    else:
        assert code == -signal.SIGKILL
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no copy left
    done = subprocess.run(command, env=standalone(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = read(url, "SELECT COUNT(*) AS n FROM etl_batch WHERE status = 'loaded'").n[0]
    assert loaded == sum(1 for p in landing_large.rglob("*.csv") if "_truth" not in p.parts)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("step", "sig"), [("model build", signal.SIGTERM), ("commit", signal.SIGKILL)]
)
def test_a_stopped_postgresql_run_leaves_no_session_and_no_rows(
    landing_large: Path, pg_url: str, step: str, sig: signal.Signals
) -> None:
    command = nightly(landing_large, pg_url, "--validation", "sql")
    stop_at(command, step, sig)
    sessions = (
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 30
    while read(pg_url, sessions).n[0] and time.monotonic() < deadline:
        time.sleep(0.5)  # the server ends a dead client's session, rolling it back
    assert read(pg_url, sessions).n[0] == 0
    tables = "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'stg_roster'"
    if read(pg_url, tables).n[0]:  # the schema commits with the run: none, or no rows
        assert read(pg_url, "SELECT COUNT(*) AS n FROM stg_roster").n[0] == 0
    done = subprocess.run(command, env=standalone(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = read(pg_url, "SELECT COUNT(*) AS n FROM etl_batch WHERE status = 'loaded'").n[0]
    assert loaded == sum(1 for p in landing_large.rglob("*.csv") if "_truth" not in p.parts)


COMPANION_BUSY = """
import time
from rxstaff.expectations.companion import Companion
companion = Companion(None)
companion._pool.submit(time.sleep, 300)  # a long task: Data Docs of a history load
time.sleep(300)
"""


def test_the_companion_ends_with_its_run_even_mid_task() -> None:
    """A run killed outright cannot shut its companion down; the companion, busy, would
    finish its task first (and a pool's idle worker only notices at its next read)."""
    parent = subprocess.Popen([sys.executable, "-c", COMPANION_BUSY], start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not any("spawn_main" in p for p in session_processes(parent.pid)):
            assert time.monotonic() < deadline, "the companion never started"
            time.sleep(0.2)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while (left := session_processes(parent.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"the companion outlived its run: {left}"
    finally:
        for line in session_processes(parent.pid):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
