"""A history load's staging on a Dask cluster, through prefect-dask's task runner.

A source's chunks of files (``flows/staging_chunk.py``) are staged by Prefect tasks on
Dask workers, a few consecutive chunks per task. A worker writes each chunk's staged
tables as Parquet to the staging area (a private temporary folder by default; any fsspec
URL the workers share, for a cluster elsewhere). The flow's process loads the chunks in
file order into the warehouse inside the run's one transaction (DuckDB reads a local
Parquet file itself): publication stays all or nothing, and the rows are the same as a
sequential run's (tests/test_parallel.py).

Workers need rxstaff installed (the same version) and, for a remote cluster, the Prefect
API (``PREFECT_API_URL``). The pseudonymisation key travels to them with each task, as it
must to pseudonymise there: use a cluster you would trust with the landing files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from rxstaff import settings
from rxstaff.flows.ingest import Chunks, Stager
from rxstaff.flows.landing import LandingFile
from rxstaff.flows.staging_chunk import StagedFiles, stage_chunk
from rxstaff.flows.summary import RunContext
from rxstaff.transforms.source import Reference, Source
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.arrivals import Arrival

# "auto": a local cluster only for this much new data, where its start (~3 s to spawn and
# import in each worker) is repaid; a night's increment stays in the flow's process.
AUTO_DASK_MIN_BYTES = 512 * 1024 * 1024
# Each task submitted costs the flow's process ~0.15 s of CPU (Prefect serialises its
# whole settings for each), taken from the workers on a small machine: 58 roster chunks
# were ~10 s of it. A task stages a few consecutive chunks; the flow still writes them
# chunk by chunk, in file order. A source of few chunks keeps one per task, so that
# every worker of a small cluster has work.
CHUNKS_PER_TASK = 3
MIN_TASKS = 8


def wants_cluster(choice: str, due_bytes: int) -> bool:
    """Whether this run stages on Dask: by the setting, and for ``auto`` by its size."""
    if choice == "off":
        return False
    if choice == "auto":
        return due_bytes >= AUTO_DASK_MIN_BYTES
    return True


def task_runner(choice: str) -> Any:
    """prefect-dask's task runner: a ``LocalCluster`` of one single-threaded worker process
    per core (pandas holds the GIL), or the scheduler at ``choice``'s address."""
    from prefect_dask import DaskTaskRunner

    # distributed sets its loggers up as it is imported; its INFO lines are per worker
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if "://" in choice:
        return DaskTaskRunner(address=choice)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers(),
            "threads_per_worker": 1,
            "processes": True,
            # The scheduler serves HTTP (health, metrics) even without a dashboard, on 8787
            # unless told otherwise: two pharmacies' runs on one host would clash.
            "dashboard_address": "127.0.0.1:0",
        }
    )


@task(cache_policy=NO_CACHE, task_run_name="stage {source} chunks {numbers}")
def stage_chunks_on_worker(
    source: str,
    numbers: str,
    chunks: list[list[Arrival[LandingFile]]],
    reference: Reference,
    validator: str,
    folders: list[str],
) -> list[StagedFiles]:
    """Stage consecutive chunks, one after the other, each written to its own folder
    (Parquet); what the flow needs to write them, file by file."""
    return [
        spill(stage_chunk(SOURCES[source], arrivals, reference, validator), folder)
        for arrivals, folder in zip(chunks, folders, strict=True)
    ]


def spill(staged: StagedFiles, folder: str) -> StagedFiles:
    """The chunk's tables written to Parquet files under ``folder`` (any fsspec URL)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(folder)
    fs.makedirs(root, exist_ok=True)
    spilled = {}
    for table, frame in staged.tables.items():
        spilled[table] = f"{folder.rstrip('/')}/{table}.parquet"
        frame.to_parquet(spilled[table], index=False)
    return replace(staged, tables={}, spilled=spilled)


def task_groups(chunks: Chunks) -> list[tuple[int, Chunks]]:
    """Consecutive chunks, each group with its first chunk's number: up to
    ``CHUNKS_PER_TASK`` a group, as long as there are ``MIN_TASKS`` groups."""
    size = max(1, min(CHUNKS_PER_TASK, len(chunks) // MIN_TASKS))
    return [(first, chunks[first : first + size]) for first in range(0, len(chunks), size)]


def stage_on_cluster(runner: Any, area: str) -> Stager:
    """A stager that sends a source's chunks to the cluster and yields them back in order
    as they are done. Every source's chunks, a single one too: the flow sends them all
    before it writes the first, and staging a small source here would keep the flow from
    writing while the workers wait."""

    def stager(
        src: Source, chunks: Chunks, ctx: RunContext, validator: str
    ) -> Iterator[StagedFiles]:
        ctx.summary.cluster_chunks += len(chunks)
        folder = f"{area.rstrip('/')}/{ctx.run_id}/{src.name}"
        futures = [
            runner.submit(
                stage_chunks_on_worker,
                {
                    "source": src.name,
                    "numbers": f"{first}-{first + len(group) - 1}",
                    "chunks": group,
                    "reference": ctx.reference,
                    "validator": validator,
                    "folders": [f"{folder}/{n:05d}" for n in range(first, first + len(group))],
                },
            )
            for first, group in task_groups(chunks)
        ]
        return (staged for future in futures for staged in future.result())

    return stager


@contextmanager
def staging_on_cluster(ctx: RunContext, due_bytes: int) -> Iterator[None]:
    """Within: the run's sources stage on Dask, if its setting and size call for it."""
    if not wants_cluster(ctx.dask, due_bytes):
        yield
        return
    with (
        workers_reach_this_api(),
        task_runner(ctx.dask) as runner,
        staging_area(ctx.staging_area, ctx.run_id) as area,
    ):
        ctx.stager = stage_on_cluster(runner, area)
        try:
            yield
        finally:
            ctx.stager = None


@contextmanager
def workers_reach_this_api() -> Iterator[None]:
    """Local workers report their task runs to this flow's Prefect API. Without
    ``PREFECT_API_URL`` in the environment (a run from the command line, a test harness)
    that is this process's temporary server or settings, which workers would not find:
    each would start a temporary server of its own (~4 s)."""
    from prefect.client.orchestration import get_client

    if os.environ.get("PREFECT_API_URL"):  # a worker's, or an operator's: inherited
        yield
        return
    os.environ["PREFECT_API_URL"] = str(get_client().api_url)  # inherited as workers spawn
    try:
        yield
    finally:
        del os.environ["PREFECT_API_URL"]


@contextmanager
def staging_area(given: str | None, run_id: str) -> Iterator[str]:
    """The staging area; a private temporary folder unless one is given. What this run
    wrote there is removed when it ends, committed or not."""
    import fsspec

    area = given or tempfile.mkdtemp(prefix="rxstaff-staging-")  # mode 0700
    try:
        yield area
    finally:
        if given:
            fs, root = fsspec.core.url_to_fs(f"{area.rstrip('/')}/{run_id}")
            if fs.exists(root):
                fs.rm(root, recursive=True)
        else:
            shutil.rmtree(area, ignore_errors=True)
