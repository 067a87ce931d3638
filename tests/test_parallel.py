"""Staging on a Dask cluster (prefect-dask, a real LocalCluster of worker processes):
the same rows as a sequential run, and still all or nothing."""

from __future__ import annotations

import os
import re
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import rxstaff.flows.staging as staging_module
import rxstaff.warehouse.build as build_module
from rxstaff.sample import Options, generate
from tests.helpers import (
    all_tables,
    assert_same,
    comparable,
    hold_back_rosters,
    query,
    read,
    run_nightly,
    snapshot_except_audit,
)
from tests.processes import background_processes, free_port, readme_block, wait_for

# What differs between two loads of the same files however they run: the run's id and
# the wall-clock times.
RUN_COLUMNS = {
    "run_id", "flow_run_id", "started_at", "finished_at", "loaded_at", "latest_loaded_at",
}  # fmt: skip
# The engine a history load (the loads Dask stages) validates with: the suites in SQL
LOAD_ENGINE = "sql"
OPERATIONS = "docs/operations.md"  # where the README sends a cluster's operator
LOADED_AT_IN_JSON = r'"latest_loaded_at": "[^"]*"'  # in the published freshness figures


@pytest.fixture(scope="module")
def landing_messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nine months of a small pharmacy with one row in ten corrupted."""
    out = tmp_path_factory.mktemp("landing_messy")
    generate(
        Options(
            out=out, employees=60, start=date(2023, 1, 2), end=date(2023, 9, 29), seed=11,
            bad_rows=0.1,
        )
    )  # fmt: skip
    return out


def use_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many chunks per source (planned by the flow, so the same either way), two workers."""
    monkeypatch.setattr(staging_module, "CHUNK_BYTES", 20_000)
    monkeypatch.setenv("RXSTAFF_DASK_WORKERS", "2")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_chunks(monkeypatch)


# Under xdist, the tests compared with the sequential load run on one worker, which loads
# it once.
SHARES_THE_SEQUENTIAL_LOAD = pytest.mark.xdist_group("dask_sequential")


@pytest.fixture(scope="module")
def sequential(landing_messy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The messy landing folder loaded without a cluster, in the same chunks: the rows a
    run staged on Dask must equal. Read only."""
    db = tmp_path_factory.mktemp("sequential") / "seq.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_small_chunks(monkeypatch)
        code, summary = run_nightly(landing_messy, db, dask="off", validation=LOAD_ENGINE)
    assert code == 0, summary
    assert summary.cluster_chunks == 0  # type: ignore[union-attr]
    return db


def everything(db: Path) -> dict[str, pd.DataFrame]:
    """Every table of loaded data (the ``rxstaff_`` tables describe the warehouse itself: a
    salted key tag, the schema's dates), run-specific columns left out, rows in order."""
    frames = {}
    for name in (t for t in all_tables(db) if not t.startswith("rxstaff_")):
        frame = query(db, f"SELECT * FROM {name}")
        frame = frame.drop(columns=[c for c in frame.columns if c in RUN_COLUMNS])
        if "row_values" in frame:
            frame["row_values"] = frame["row_values"].str.replace(LOADED_AT_IN_JSON, "", regex=True)
        frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


@pytest.mark.usefixtures("small_chunks")
@SHARES_THE_SEQUENTIAL_LOAD
def test_staging_on_dask_writes_the_same_rows_as_a_sequential_run(
    landing_messy: Path, sequential: Path, tmp_path: Path
) -> None:
    area = tmp_path / "area"
    area.mkdir()
    on_dask = run_nightly(
        landing_messy,
        tmp_path / "dask.duckdb",
        dask="local",
        staging_area=str(area),
        validation=LOAD_ENGINE,
    )
    assert on_dask[0] == 0, on_dask
    assert on_dask[1].cluster_chunks > 10  # the roster, budget and training, chunk by chunk
    assert query(sequential, "SELECT count(*) AS n FROM etl_quarantine").n[0] > 0
    assert_same(everything(sequential), everything(tmp_path / "dask.duckdb"))
    assert list(area.iterdir()) == []  # the run's Parquet is gone


@pytest.mark.usefixtures("small_chunks")
def test_a_failed_run_staged_on_dask_leaves_the_warehouse_as_it_was(
    landing_messy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing"
    import shutil

    shutil.copytree(landing_messy, landing)
    db = tmp_path / "w.duckdb"
    _, arrive = hold_back_rosters(landing, 8)
    assert run_nightly(landing, db, dask="off", validation=LOAD_ENGINE)[0] == 0
    before = snapshot_except_audit(db)
    arrive()

    def failing_build(conn, prints=None):
        raise RuntimeError("models failed (injected)")

    monkeypatch.setattr(build_module, "build_tables", failing_build)
    area = tmp_path / "area"
    code, error = run_nightly(
        landing, db, dask="local", staging_area=str(area), validation=LOAD_ENGINE
    )
    assert code == 2 and "injected" in str(error)
    assert_same(before, snapshot_except_audit(db))
    assert not area.exists() or list(area.iterdir()) == []


def test_chunks_are_planned_from_sizes_whole_files_in_order() -> None:
    from rxstaff.extract.landing import LandingFile
    from rxstaff.transforms.chunk import plan_chunks
    from rxstaff.warehouse.arrivals import Arrival

    sizes = [30, 30, 50, 5, 5, 120, 1]
    arrivals = [
        Arrival(
            LandingFile("roster", Path(f"f{n}"), f"f{n}", date(2024, 1, 1), "x", size), "new", None
        )
        for n, size in enumerate(sizes)
    ]
    chunks = plan_chunks(arrivals, lambda a: a.file.size, 60)
    assert [[a.file.size for a in chunk] for chunk in chunks] == [
        [30, 30], [50, 5, 5], [120], [1],
    ]  # fmt: skip
    assert [a for chunk in chunks for a in chunk] == arrivals
    assert plan_chunks([], lambda a: a.file.size, 60) == []


@pytest.mark.parametrize(("chunks", "sizes"), [(58, [3] * 19 + [1]), (16, [2] * 8), (7, [1] * 7)])
def test_a_task_stages_a_few_consecutive_chunks_while_every_worker_has_work(
    chunks: int, sizes: list[int]
) -> None:
    from rxstaff.flows.parallel import task_groups

    planned = [[f"file {n}"] for n in range(chunks)]  # a chunk: its files
    groups = task_groups(planned)  # type: ignore[arg-type]
    assert [len(group) for _, group in groups] == sizes
    assert [chunk for _, group in groups for chunk in group] == planned  # each once, in order
    assert [first for first, _ in groups] == [sum(sizes[:n]) for n in range(len(sizes))]


@pytest.mark.parametrize(
    ("choice", "due_bytes", "expected"),
    [("auto", 10, False), ("auto", 600 * 2**20, True), ("off", 600 * 2**20, False),
     ("local", 10, True), ("tcp://127.0.0.1:8786", 10, True)],
)  # fmt: skip
def test_when_a_run_stages_on_dask(choice: str, due_bytes: int, expected: bool) -> None:
    from rxstaff.flows.parallel import wants_cluster

    assert wants_cluster(choice, due_bytes) is expected


def test_an_unknown_dask_setting_is_refused_before_anything_starts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rxstaff.cli import app

    result = CliRunner().invoke(app, ["nightly", "--landing", str(tmp_path), "--dask", "lots"])
    assert result.exit_code == 2
    assert "nothing was changed" in result.output and "tcp://" in result.output


def test_a_bad_worker_count_is_refused_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rxstaff.cli import app

    monkeypatch.setenv("RXSTAFF_DASK_WORKERS", "two")
    result = CliRunner().invoke(app, ["nightly", "--landing", str(tmp_path)])
    assert result.exit_code == 2
    assert "nothing was changed" in result.output and "RXSTAFF_DASK_WORKERS" in result.output


@SHARES_THE_SEQUENTIAL_LOAD
@pytest.mark.usefixtures("small_chunks")
@pytest.mark.usefixtures("prefect_server")
def test_staging_on_an_existing_scheduler_started_as_the_readme_says(
    landing_messy: Path, sequential: Path, tmp_path: Path
) -> None:
    """The README's own commands (on 127.0.0.1, free ports, two worker processes): a
    ``dask scheduler`` and ``dask worker`` started outside the run, with PREFECT_API_URL.
    The chunks are staged by those workers (their Prefect task runs say so in their logs),
    the rows are the sequential run's, and the shared staging area is left empty."""
    from prefect.settings import PREFECT_API_URL

    steps = (
        readme_block("## A history load on a Dask cluster", "```\n", OPERATIONS)
        .strip()
        .splitlines()
    )
    scheduler, worker = (line.removesuffix("&").strip() for line in steps[:2])
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    local = (("10.0.0.5", "127.0.0.1"), ("8786", str(port)), ("--nworkers 4", "--nworkers 2"))
    for old, new in local:
        scheduler, worker = scheduler.replace(old, new), worker.replace(old, new)
    worker = worker.replace("http://127.0.0.1:4200/api", str(PREFECT_API_URL.value()))
    assert scheduler.startswith("dask scheduler") and f"dask worker {address}" in worker
    scheduler += " --no-dashboard"  # tests run side by side: no fixed port 8787
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    area = tmp_path / "shared-staging"
    area.mkdir()
    logs = tmp_path / "logs"
    with background_processes(tmp_path, env, logs) as start:
        start(scheduler, "scheduler")
        start(worker, "worker")
        wait_for(lambda: _workers(address) >= 2, 120, "two Dask workers to join the scheduler")
        on_cluster = run_nightly(
            landing_messy,
            tmp_path / "dask.duckdb",
            prefect=True,  # the workers report the task runs the README names
            dask=address,
            staging_area=str(area),
            validation=LOAD_ENGINE,
        )
    assert on_cluster[0] == 0, on_cluster
    assert on_cluster[1].cluster_chunks > 10
    staged_by_workers = (logs / "worker.log").read_text("utf-8", errors="replace")
    # the task runs the README names: stage <source> chunks <first>-<last>
    assert re.search(r"stage roster chunks \d+-\d+", staged_by_workers)
    assert_same(everything(sequential), everything(tmp_path / "dask.duckdb"))
    assert list(area.iterdir()) == []


def _workers(address: str) -> int:
    from distributed import Client

    try:
        with Client(address, timeout=5) as client:
            return len(client.scheduler_info()["workers"])
    except OSError:
        return 0


@SHARES_THE_SEQUENTIAL_LOAD
@pytest.mark.postgres
@pytest.mark.usefixtures("small_chunks")
def test_staging_on_dask_into_postgresql_gives_the_rows_of_a_sequential_load(
    landing_messy: Path, sequential: Path, tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL takes the workers' Parquet through Arrow and COPY (DuckDB reads it
    itself): the staged rows and quarantine are those of the sequential DuckDB load."""
    from rxstaff.transforms.sources import SOURCES

    area = tmp_path / "area"
    area.mkdir()
    on_dask = run_nightly(
        landing_messy, pg_url, dask="local", staging_area=str(area), validation=LOAD_ENGINE
    )
    assert on_dask[0] == 0, on_dask
    assert on_dask[1].cluster_chunks > 10
    tables = sorted({t for src in SOURCES.values() for t in src.tables} | {"etl_quarantine"})
    for table in tables:
        duck = query(sequential, f"SELECT * FROM {table}")
        duck = duck.drop(columns=[c for c in duck.columns if c in RUN_COLUMNS])
        pg = read(pg_url, f"SELECT * FROM {table}")[list(duck.columns)]
        assert len(duck) == len(pg), table
        pd.testing.assert_frame_equal(comparable(duck), comparable(pg), obj=table)
    assert list(area.iterdir()) == []
