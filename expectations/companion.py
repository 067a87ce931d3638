"""Great Expectations in a process of its own, beside a run validated by SQL.

A run bringing over 4 MiB of new files (``flows/staging.py``: a large night, a history
load) is validated by the suites compiled to SQL; Great Expectations re-checks a sample of
every file, stores every file's result and builds Data Docs. That work needs GX's import
and a fixed cost per validation call whatever its size (docs/benchmark.md), all of it on
the run's critical path when done in the run's process. The companion is one spawned
process that imports GX while the run stages its first chunks and does that work as the
run hands it over, on another core. Nothing it does touches the warehouse: the run waits
for every check it submitted (``settle``) before it commits, so a disagreement between
the engines still fails the run, all or nothing.
"""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from rxstaff.expectations.results import FileResult
from rxstaff.transforms.source import Reference

# The companion process's own store (one per process: it lives as long as the run).
_store = None


def _start(project: str | None) -> None:
    global _store
    _end_with_parent()
    atexit.register(gc.freeze)  # an exit without GX's heap walked: as the command's (cli.main)
    from rxstaff.expectations.results import ValidationStore

    _store = ValidationStore(Path(project)) if project else None
    if _store is not None:
        _store.context  # noqa: B018 - imports and opens GX now, while the run stages
    else:
        from rxstaff.expectations.gx_import import great_expectations

        great_expectations()  # the cross-checks need it


def _end_with_parent() -> None:
    """End this process when the run's is gone. A run killed outright (SIGKILL, the OOM
    killer) never shuts its pool down, and the pool's queue would keep the companion
    waiting for work forever; the parent's sentinel closes when it dies, whatever killed
    it. SIGTERM to itself: the default action, the way any stopped process ends."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="rxstaff-end-with-parent", daemon=True).start()


def _record(result: FileResult) -> None:
    assert _store is not None
    _store.record(result)


def _discard() -> None:
    if _store is not None:
        _store.discard()


def _build_docs() -> str | None:
    return str(_store.build_docs()) if _store is not None and _store.keys else None


def _cross_check(source: str, sample: pd.DataFrame, ref: Reference, engine: str) -> int:
    from rxstaff.expectations.suite import cross_check
    from rxstaff.transforms.sources import source as source_named

    return cross_check(source_named(source), sample, ref, engine)


class Companion:
    """Validation results and GX's cross-checks, done by a process of their own.

    Used as the run's validation store (``record``, ``keys``, ``build_docs``) and for
    ``cross_check``; ``settle`` waits for everything submitted and raises the first error.
    """

    def __init__(self, project: Path | None) -> None:
        self.project = project
        self.keys: list[str] = []  # files recorded (names: the results live over there)
        self._pending: list[tuple[str | None, Future]] = []
        self._docs: Future | None = None
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # no copy of the run's state
            initializer=_start,
            initargs=(str(project) if project else None,),
        )

    def record(self, result: FileResult) -> None:
        """``ValidationStore.record``: that file's result, stored over there."""
        if self.project is None:
            return
        self._pending.append((None, self._pool.submit(_record, result)))
        self.keys.append(result.file_name)

    def cross_check(self, source: str, sample: pd.DataFrame, ref: Reference, engine: str) -> None:
        """Submit GX's check of ``sample``; its rows count once ``settle`` returns."""
        self._pending.append((source, self._pool.submit(_cross_check, source, sample, ref, engine)))

    def settle(self) -> dict[str, int]:
        """Wait for everything submitted; the rows GX checked, by source. The first error
        (``EnginesDisagree``, a full disk) is raised here, before the run commits."""
        checked: dict[str, int] = {}
        pending, self._pending = self._pending, []
        for source, future in pending:
            rows = future.result()
            if source is not None:
                checked[source] = checked.get(source, 0) + int(rows)
        return checked

    def discard(self) -> None:
        """``ValidationStore.discard``, over there, once what was submitted has run."""
        for _, future in self._pending:
            future.exception()  # finished, whether it failed or not
        self._pending = []
        self._pool.submit(_discard).result()
        self.keys = []

    def start_docs(self) -> None:
        """Begin building Data Docs of every result submitted so far (they are recorded in
        order), after the checks already submitted, while the run builds its models and
        commits; ``build_docs`` returns their index. Docs only render stored results: a
        run that fails after this leaves docs of results that are stored either way."""
        if self.project is not None and self.keys:
            self._docs = self._pool.submit(_build_docs)

    def build_docs(self) -> Path:
        docs, self._docs = (self._docs or self._pool.submit(_build_docs)).result(), None
        if docs is None:
            raise RuntimeError("no validation result was recorded")
        return Path(docs)

    def close(self) -> None:
        # Nothing is left to wait for once the run has its answers; the process's own exit
        # goes on beside what the run does next.
        self._pool.shutdown(wait=False, cancel_futures=True)
