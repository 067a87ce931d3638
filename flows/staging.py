"""Staging a source's chunks, and keeping what validation found (orchestration).

A chunk is staged by reading its files (``rxstaff.extract``), preparing their rows
(``transforms/chunk.py``), validating them (``rxstaff.expectations``) and casting the
rows that passed (``transforms/chunk.py``): here, in the run's process, one chunk after
the other, or on a Dask cluster (``flows/parallel.py``). Staging touches no warehouse
and no run state, so it is the same wherever it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rxstaff.expectations.companion import Companion
from rxstaff.expectations.results import FileResult, ValidationStore, repair_project
from rxstaff.expectations.suite import (
    Outcome,
    cross_check,
    gx_beside,
    sample_for_cross_check,
    validate_chunk,
)
from rxstaff.extract.landing import FileMoved, LandingFile, read_landing_file
from rxstaff.flows.steps import Logger, run_logger
from rxstaff.transforms.chunk import RawFile, StagedFiles, plan_chunks, prepare_chunk, stage_chunk
from rxstaff.transforms.source import FILE_NO, Reference, Source
from rxstaff.warehouse.arrivals import Arrival
from rxstaff.warehouse.ingest import ChunkWriter
from rxstaff.warehouse.runs import RunContext
from rxstaff.warehouse.transaction import RunTransaction

# Files of one source are validated together: GX has a large fixed cost per validation,
# whatever its size. About 460,000 roster rows; a night's hundreds of one-line files make
# one chunk; a Dask worker holds one at a time (docs/benchmark.md).
CHUNK_BYTES = 80 * 1024 * 1024

Chunks = list[list[Arrival[LandingFile]]]
# Stages chunks of one source somewhere (here, or on a cluster), yielding them in order.
Stager = Callable[[Source, Chunks, Reference, str, str], Iterator[StagedFiles]]


@dataclass(frozen=True)
class SourcePlan:
    """A source's due files, cut into chunks, and the engine that validates them."""

    source: Source
    due: list[Arrival[LandingFile]]
    chunks: Chunks
    validator: str


def plan_source(src: Source, due: list[Arrival[LandingFile]], validator: str) -> SourcePlan:
    return SourcePlan(src, due, plan_chunks(due, lambda a: a.file.size, CHUNK_BYTES), validator)


def stage_files(
    src: Source, arrivals: list[Arrival[LandingFile]], ref: Reference, validator: str
) -> StagedFiles:
    """Read, prepare, validate and stage a chunk of one source's files."""
    chunk = prepare_chunk(src, [_read(a.file) for a in arrivals])
    found = Outcome() if chunk.rows is None else validate_chunk(src, chunk.rows, ref, validator)
    staged = stage_chunk(src, chunk, found, ref)
    if validator != "gx" and chunk.rows is not None:
        staged.sample = sample_for_cross_check(chunk.rows)
    return staged


def _read(file: LandingFile) -> RawFile:
    try:
        return RawFile(file.file_date, read_landing_file(file))
    except FileMoved as moved:  # not this night's to load: the next run will see it
        return RawFile(file.file_date, moved=str(moved))


def stage_in_process(
    src: Source, chunks: Chunks, ref: Reference, validator: str, run_id: str
) -> Iterator[StagedFiles]:
    """Each chunk staged in the run's own process, one after the other."""
    for chunk in chunks:
        yield stage_files(src, chunk, ref, validator)


@dataclass
class Validation:
    """Where a run's validation results go (its GX store, or the companion process), and
    the samples GX re-checks of what another engine judged."""

    store: Any = None  # ValidationStore or Companion; None: results not kept
    companion: Companion | None = None
    samples: list[pd.DataFrame] = field(default_factory=list)
    files_sampled: int = 0

    def keep(
        self,
        plan: SourcePlan,
        arrivals: list[Arrival[LandingFile]],
        staged: StagedFiles,
        run_id: str,
    ) -> None:
        """Each validated file's results (counts only), and the chunk's sample."""
        for arrival, file in zip(arrivals, staged.files, strict=True):
            if self.store is None or file.unexpected is None or file.outcome is None:
                continue
            self.store.record(
                FileResult(
                    suite_name=Path(plan.source.suite).stem,
                    rules=staged.rules,
                    unexpected=file.unexpected,
                    rows=file.outcome.rows_read,
                    run_id=run_id,
                    file_name=arrival.file.file_name,
                    engine=plan.validator,
                )
            )
        if staged.sample is not None:
            shifted = staged.sample[FILE_NO] + self.files_sampled
            self.samples.append(staged.sample.assign(**{FILE_NO: shifted}))
            self.files_sampled += len(staged.files)

    def cross_check(self, src: Source, ref: Reference, engine: str, logger: Logger) -> int:
        """Great Expectations' word on the samples of a source: here (the rows it agreed
        on), or submitted to the companion (0 now; the run waits for it to commit)."""
        if not self.samples:
            return 0
        sample = pd.concat(self.samples)
        self.samples, self.files_sampled = [], 0
        if self.companion is not None:
            self.companion.cross_check(src.name, sample, ref, engine)
            logger.info(f"{src.name}: Great Expectations checks {len(sample):,} sampled rows")
            return 0
        checked = cross_check(src, sample, ref, engine)
        logger.info(f"{src.name}: Great Expectations agreed on {checked:,} sampled rows")
        return checked


@contextmanager
def validation_beside(choice: str, due_bytes: int, project: Path | None) -> Iterator[Validation]:
    """The run's validation: a run validated by SQL (over 4 MiB of new files) hands its
    Great Expectations work (results, sample checks, Data Docs) to a companion process,
    which imports GX while the run stages; any other run keeps it in this process."""
    repaired = repair_project(project) if project else None
    if repaired:
        run_logger().warning(repaired)
    if not gx_beside(choice, due_bytes):
        yield Validation(ValidationStore(project) if project else None)
        return
    companion = Companion(project)
    try:
        yield Validation(companion if project else None, companion)
    finally:
        companion.close()


def discard_results(checks: Validation) -> None:
    """A rolled-back run's validation results, removed (``ValidationStore.discard``); a
    failure to do so is logged, never raised over the run's own error."""
    if checks.store is None:
        return
    try:
        checks.store.discard()
    except Exception as error:
        run_logger().warning(f"could not remove the failed run's validation results: {error}")


def write_source(
    tx: RunTransaction,
    plan: SourcePlan,
    staged: Iterable[StagedFiles],
    ctx: RunContext,
    validation: Validation,
    ref: Reference,
) -> int:
    """Write a source's staged chunks in order, keeping each file's validation results;
    then GX's check of the samples. The files loaded."""
    src, logger = plan.source, run_logger()
    logger.info(
        f"{src.name}: {len(plan.due)} new or corrected file(s) in {len(plan.chunks)} "
        f"chunk(s), validated with {plan.validator}"
    )
    writer = ChunkWriter(tx.conn, src, ctx, plan.validator, len(plan.due), tx.checkpoint, logger)
    for arrivals, chunk in zip(plan.chunks, staged, strict=True):
        writer.write(arrivals, chunk)
        validation.keep(plan, arrivals, chunk, ctx.run_id)
    checked = validation.cross_check(src, ref, plan.validator, logger)
    ctx.summary.source(src.name).gx_sample_rows += checked
    return writer.loaded
