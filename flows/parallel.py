"""A history load's staging on a Dask cluster.

A source's chunks of files are staged on Dask workers, a few consecutive chunks per
task (``flows/staging.py``). A worker writes each chunk's staged tables as Parquet to the
staging area (a private temporary folder by default; any fsspec URL the workers share,
for a cluster elsewhere). The run's process loads the chunks in file order into the
warehouse inside the run's one transaction: publication stays all or nothing, and the
rows are a sequential run's (tests/test_parallel.py).

Under Prefect the tasks are Prefect task runs through prefect-dask's task runner (the
workers report them to the run's API); a run without Prefect submits the same function
to a ``distributed`` client. Workers need rxstaff installed (the same version). The
pseudonymisation key travels to them with each task, as it must to pseudonymise there:
use a cluster you would trust with the landing files.
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

from rxstaff.flows.staging import Chunks, Stager, stage_files
from rxstaff.flows.steps import in_flow_run
from rxstaff.settings import RunSettings
from rxstaff.transforms.chunk import StagedFiles
from rxstaff.transforms.source import Reference, Source
from rxstaff.transforms.sources import SOURCES
from rxstaff.warehouse.runs import RunSummary

# "auto": a local cluster only for this much new data, where starting its workers is
# repaid; a night's increment stays in the run's process.
AUTO_DASK_MIN_BYTES = 512 * 1024 * 1024
# Each task submitted costs the run's process CPU (Prefect serialises its settings for
# each), taken from the workers on a small machine: a task stages a few consecutive
# chunks, and the run still writes them chunk by chunk, in file order. A source of few
# chunks keeps one per task, so that every worker of a small cluster has work.
CHUNKS_PER_TASK = 3
MIN_TASKS = 8


def wants_cluster(choice: str, due_bytes: int) -> bool:
    """Whether this run stages on Dask: by the setting, and for ``auto`` by its size."""
    if choice == "off":
        return False
    if choice == "auto":
        return due_bytes >= AUTO_DASK_MIN_BYTES
    return True


def stage_chunks(
    source: str,
    numbers: str,
    chunks: Chunks,
    reference: Reference,
    validator: str,
    folders: list[str],
) -> list[StagedFiles]:
    """Stage consecutive chunks, one after the other, each written to its own folder
    (Parquet); what the run needs to write them, file by file."""
    return [
        spill(stage_files(SOURCES[source], arrivals, reference, validator), folder)
        for arrivals, folder in zip(chunks, folders, strict=True)
    ]


stage_chunks_on_worker = task(
    stage_chunks,
    name="stage_chunks_on_worker",
    cache_policy=NO_CACHE,
    task_run_name="stage {source} chunks {numbers}",
)


PARAMETERS = ("source", "numbers", "chunks", "reference", "validator", "folders")


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


def stage_on_cluster(submit: Any, area: str, summary: RunSummary) -> Stager:
    """A stager that sends a source's chunks to the cluster and yields them back in order
    as they are done. Every source's chunks, a single one too: the run sends them all
    before it writes the first, and staging a small source here would keep the run from
    writing while the workers wait."""

    def stager(
        src: Source, chunks: Chunks, ref: Reference, validator: str, run_id: str
    ) -> Iterator[StagedFiles]:
        summary.cluster_chunks += len(chunks)
        folder = f"{area.rstrip('/')}/{run_id}/{src.name}"
        futures = [
            submit(
                src.name,
                f"{first}-{first + len(group) - 1}",
                group,
                ref,
                validator,
                [f"{folder}/{n:05d}" for n in range(first, first + len(group))],
            )
            for first, group in task_groups(chunks)
        ]
        return (staged for future in futures for staged in future.result())

    return stager


@contextmanager
def staging_on_cluster(run: RunSettings, due_bytes: int, summary: RunSummary) -> Iterator[Any]:
    """Within: a stager on Dask, if the run's setting and size call for it; else None."""
    if not wants_cluster(run.dask, due_bytes):
        yield None
        return
    with (
        _submitter(run) as submit,
        staging_area(run.staging_area, run.run_id) as area,
    ):
        yield stage_on_cluster(submit, area, summary)


def _cluster_options(run: RunSettings) -> dict[str, Any]:
    """A ``LocalCluster`` of one single-threaded worker process per core (pandas holds
    the GIL). Its scheduler serves HTTP even without a dashboard, on 8787 unless told
    otherwise: two pharmacies' runs on one host would clash."""
    return {
        "n_workers": run.dask_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": "127.0.0.1:0",
    }


@contextmanager
def _submitter(run: RunSettings) -> Iterator[Any]:
    """``submit(*PARAMETERS)`` -> a future of the staged chunks."""
    import distributed

    # distributed sets its loggers up as it is imported; its INFO lines are per worker
    logging.getLogger(distributed.__name__).setLevel(logging.WARNING)
    if in_flow_run():
        from prefect_dask import DaskTaskRunner

        runner = (
            DaskTaskRunner(address=run.dask)
            if "://" in run.dask
            else DaskTaskRunner(cluster_kwargs=_cluster_options(run))
        )
        with workers_reach_this_api(), runner:
            yield lambda *args: runner.submit(
                stage_chunks_on_worker,
                dict(zip(PARAMETERS, args, strict=True)),
            )
        return
    from distributed import Client, LocalCluster

    if "://" in run.dask:
        with Client(run.dask) as client:
            yield lambda *args: client.submit(stage_chunks, *args, pure=False)
        return
    with LocalCluster(**_cluster_options(run)) as cluster, Client(cluster) as client:
        yield lambda *args: client.submit(stage_chunks, *args, pure=False)


@contextmanager
def workers_reach_this_api() -> Iterator[None]:
    """Local workers report their task runs to this flow's Prefect API. Without
    ``PREFECT_API_URL`` in the environment (a test harness's server) that is this
    process's settings, which workers would not find: each would start a temporary
    server of its own."""
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
