"""Validation results kept as Great Expectations keeps them, and Data Docs built from them.

Each run stores, per validated file, a GX ``ExpectationSuiteValidationResult`` in a
file-backed GX project (``gx/`` beside a DuckDB warehouse, or under
$RXSTAFF_GX_HOME), and builds the project's Data Docs: a browsable site of every run's
expectations, the failed ones marked. The results are built from what either engine
found (GX itself or its vectorised twin), so a history load's results sit in the same
store. They hold counts only: never an unexpected value, which could be an employee id.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from rxstaff.expectations.gx_import import great_expectations
from rxstaff.expectations.suite import Rule

VALIDATIONS = "validations"
# The project's configuration, as GX writes it: rebuilt by GX when missing.
CONFIG_FILES = ("gx/great_expectations.yml", "gx/uncommitted/config_variables.yml")
ALL_PAGES_MAX = 200
INDEX_RESULTS_MAX = 1000


@dataclass(frozen=True)
class FileResult:
    """One file's validation as the store keeps it: counts only, never a value."""

    suite_name: str
    rules: list[Rule]
    unexpected: Mapping[str, int]  # failing rows by rule name
    rows: int
    run_id: str
    file_name: str
    engine: str


class ValidationStore:
    """A file-backed GX project that keeps each run's results and its Data Docs."""

    def __init__(self, root: Path, index_limit: int = INDEX_RESULTS_MAX) -> None:
        self.root = root
        self.new_project = not root.exists()  # this run creates it
        self.index_limit = index_limit
        self.keys: list[Any] = []
        self.failed_keys: list[Any] = []  # results where a rule found unexpected rows
        self._context: Any = None
        self._config_cache: dict[str, list[dict[str, Any]]] = {}
        self._store: Any = None

    @property
    def context(self) -> Any:
        """The GX project, opened on first use: a night with nothing new to validate pays
        neither GX's import nor its configuration."""
        if self._context is None:
            gx = great_expectations()
            self.root.mkdir(parents=True, exist_ok=True)
            self._context = gx.get_context(mode="file", project_root_dir=str(self.root))
            _limit_the_index(self._context, self.index_limit)
        return self._context

    def record(self, result: FileResult) -> None:
        """One file's validation: each rule with how many of its rows it found unexpected.

        Written as GX's store writes an ``ExpectationSuiteValidationResult`` (the same JSON,
        which GX reads back and renders), without GX's per-file serialisation, which a
        history load of thousands of files paid by the minute.
        """
        great_expectations()
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        suite_name, file_name, run_id = result.suite_name, result.file_name, result.run_id
        results = [
            _result(config, int(result.unexpected.get(rule.rule, 0)), result.rows)
            for rule, config in zip(result.rules, self._configs(result.rules), strict=True)
        ]
        failed = sum(1 for r in results if not r["success"])
        now = datetime.now(UTC)
        document = {
            "id": None,
            "meta": {
                "active_batch_definition": {
                    "batch_identifiers": {},
                    "data_asset_name": file_name,
                    "data_connector_name": "rxstaff",
                    "datasource_name": "landing",
                },
                "engine": result.engine,
                "run_id": {"run_name": run_id, "run_time": now.isoformat()},
                "validation_time": now.isoformat(),
            },
            "results": results,
            "statistics": {
                "evaluated_expectations": len(results),
                "success_percent": 100.0 * (len(results) - failed) / len(results)
                if results
                else 100.0,
                "successful_expectations": len(results) - failed,
                "unsuccessful_expectations": failed,
            },
            "success": failed == 0,
            "suite_name": suite_name,
            "suite_parameters": {},
        }
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=RunIdentifier(run_name=run_id, run_time=now),
            batch_identifier=file_name.replace("/", "__"),
        )
        self._write(key, document)
        self.keys.append(key)
        if failed:
            self.failed_keys.append(key)

    def _write(self, key: Any, document: dict[str, Any]) -> None:
        """Store one result where GX's file store keeps it (GX builds the store anew on
        every access to ``context.validation_results_store``: it is looked up once),
        written whole or not at all."""
        if self._store is None:
            self._store = self.context.validation_results_store
        # Compact JSON: with an indent, json falls back from its C encoder to Python's.
        write_atomically(self._path(key), json.dumps(document))

    def _path(self, key: Any) -> Path:
        return _local(self._store._store_backend.get_url_for_key(self._store.key_to_tuple(key)))

    def discard(self) -> None:
        """Remove the results this store recorded: a run rolled back loaded none of their
        files, and its next run validates and records them again. On a full disk this is
        also the room the run's failure needs to be recorded: a project this run created
        goes whole (GX's own files too), the next run creates it again."""
        if self.new_project:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            for key in self.keys:
                self._path(key).unlink(missing_ok=True)
        self.keys, self.failed_keys = [], []

    def _configs(self, rules: list[Rule]) -> list[dict[str, Any]]:
        """The rules as GX's expectation configurations (JSON), built by GX once per set of
        bound rules."""
        cache_key = json.dumps([[r.type, r.rule, r.kwargs] for r in rules], default=str)
        found = self._config_cache.get(cache_key)
        if found is None:
            great_expectations()
            from great_expectations.expectations.expectation_configuration import (
                ExpectationConfiguration,
            )

            found = [
                ExpectationConfiguration(
                    type=rule.type, kwargs=_shown(rule.kwargs), meta={"rule": rule.rule}
                ).to_json_dict()
                for rule in rules
            ]
            self._config_cache[cache_key] = found
        return found

    def build_docs(self) -> Path:
        """The Data Docs site, rebuilt with this run's results; its index page.

        Only this run's pages are rendered (earlier runs' pages stay; the index lists every
        rendered page). Pages are costly to render: a run that validated more than
        ``ALL_PAGES_MAX`` files (a history load) renders the pages of the files where a
        rule failed, up to that many; every file's result is stored all the same, and
        ``context.build_data_docs()`` renders them all.
        """
        pages = self.keys
        if len(pages) > ALL_PAGES_MAX:
            pages = self.failed_keys[:ALL_PAGES_MAX] or self.keys[:1]  # [] would mean all
        # GX tests each stored result's key for membership: a set, not a list of thousands.
        with listed_once(self.context.validation_results_store):
            sites = self.context.build_data_docs(resource_identifiers=set(pages))
        index = _local(sites["local_site"])
        return write_results_page(self.root / "gx" / "uncommitted" / VALIDATIONS, index,
                                  self.index_limit)  # fmt: skip


def _local(url: str) -> Path:
    """The file a GX file:// URL names."""
    return Path(url2pathname(urlparse(url).path))


RESULTS_PAGE = "results.html"


def write_results_page(results: Path, index: Path, limit: int = INDEX_RESULTS_MAX) -> Path:
    """``results.html`` beside Data Docs' index: the latest ``limit`` results as a plain
    table, each linked to its Data Docs page where one was rendered. GX's index draws its
    table with scripts from public CDNs, so offline (a hospital network) it lists nothing;
    this page has no script and fetches nothing. Counts only, as the results hold."""
    stored = sorted(
        results.rglob("*.json"), key=lambda p: (p.parent.name, p.parent.parent.name), reverse=True
    )[:limit]
    rows = [_result_row(path, results, index.parent) for path in stored]
    body = "".join(rows) or '<tr><td colspan="7">no validation result yet</td></tr>'
    page = RESULTS_TEMPLATE.format(rows=body, shown=len(rows), index=index.name)
    target = index.with_name(RESULTS_PAGE)
    write_atomically(target, page)
    return target


def _result_row(path: Path, results: Path, site: Path) -> str:
    from html import escape

    document = json.loads(path.read_text(encoding="utf-8"))
    stats, meta = document.get("statistics", {}), document.get("meta", {})
    relative = path.relative_to(results).with_suffix(".html")
    page = site / VALIDATIONS / relative
    file_name = meta.get("active_batch_definition", {}).get("data_asset_name", path.stem)
    shown = escape(str(file_name))
    link = f'<a href="{VALIDATIONS}/{relative.as_posix()}">{shown}</a>' if page.exists() else shown
    failed = int(stats.get("unsuccessful_expectations", 0))
    cells = [
        escape(str(meta.get("run_id", {}).get("run_name", relative.parts[1]))),
        escape(str(meta.get("validation_time", ""))[:19]),
        escape(str(document.get("suite_name", relative.parts[0]))),
        link,
        str(stats.get("evaluated_expectations", "")),
        str(failed),
        "passed" if document.get("success") else '<b class="failed">failed</b>',
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


RESULTS_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Validation Results</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
.failed {{ color: #b00020; }}
</style></head><body>
<h1>Validation Results</h1>
<p>The latest {shown} results, newest first: each file's expectations, as Great
Expectations stored them (counts only). A file's name links to its Data Docs page where
one was rendered. <a href="{index}">Data Docs' own index</a> needs the internet.</p>
<table><thead><tr><th>run</th><th>validated at</th><th>suite</th><th>file</th>
<th>expectations</th><th>failed</th><th>result</th></tr></thead>
<tbody>{rows}</tbody></table>
</body></html>
"""


def write_atomically(path: Path, text: str) -> None:
    """``text`` into ``path`` under a temporary name, then renamed over it: a crash or a
    full disk leaves the earlier file or none, never half of one for a later run to trip
    over. The temporary file goes if the write fails, giving its space back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def repair_project(root: Path) -> str | None:
    """Set aside a validation project's configuration file that a crash or a full disk
    left empty or unreadable, so that GX writes it anew; the stored results stay. What
    was done, for the run's log, or None if the project was sound."""
    import yaml

    broken = []
    for name in CONFIG_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            sound = isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)
        except (yaml.YAMLError, UnicodeDecodeError):
            sound = False
        if not sound:
            path.replace(path.with_name(f"{path.name}.broken"))
            broken.append(name)
    if not broken:
        return None
    return (
        f"the validation project at {root} had an empty or unreadable {', '.join(broken)} "
        "(a crash or a full disk?): set aside as .broken and written anew; its stored "
        "results are kept"
    )


@contextmanager
def listed_once(store: Any) -> Iterator[None]:
    """Within: the store lists its results once, without dateutil.

    A Data Docs build lists every stored result twice (its pages, then its index), and GX
    parses each result's run time with dateutil: most of a night's Data Docs on years of
    results, growing every night. The keys are the ones GX makes
    (tests/test_validation_docs.py holds them equal); a run time in another format is
    left to GX.
    """
    keys = [_result_key(store, t) for t in store._store_backend.list_keys()]
    listed = [k for k in keys if k is not None]
    store.list_keys = lambda: list(listed)
    try:
        yield
    finally:
        del store.list_keys


RUN_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # how GX writes a run time into a result's path


def _result_key(store: Any, stored: tuple[str, ...]) -> Any:
    great_expectations()
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.store.store import StoreBackend
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    if stored == StoreBackend.STORE_BACKEND_ID_KEY:
        return None
    try:
        run_time = datetime.strptime(stored[-2], RUN_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return store.tuple_to_key(stored)
    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier.from_tuple(stored[:-3]),
        RunIdentifier(run_name=stored[-3], run_time=run_time),
        stored[-1],
    )


def _limit_the_index(context: Any, limit: int) -> None:
    """The index page lists the most recent ``limit`` results: GX reads every result it
    lists, and years of nightly files would make each night's index slower."""
    sites = context.variables.data_docs_sites or {}
    index = sites.get("local_site", {}).get("site_index_builder")
    if index is not None and index.get("validation_results_limit") != limit:
        index["validation_results_limit"] = limit
        context.variables.data_docs_sites = sites
        context.variables.save()


def _result(config: dict[str, Any], count: int, rows: int) -> dict[str, Any]:
    """One expectation's result on one file, counts only, as GX writes it."""
    return {
        "exception_info": {
            "exception_message": None,
            "exception_traceback": None,
            "raised_exception": False,
        },
        "expectation_config": config,
        "meta": {},
        "result": {
            "element_count": rows,
            "unexpected_count": count,
            "unexpected_percent": 100.0 * count / rows if rows else 0.0,
        },
        "success": count == 0,
    }


def _shown(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Kwargs as Data Docs shows them: a long reference list is summarised."""
    shown = dict(kwargs)
    values = shown.get("value_set")
    if isinstance(values, list) and len(values) > 12:
        shown["value_set"] = [*values[:12], f"... {len(values) - 12} more"]
    return shown
