"""Great Expectations suites kept as data, one per source, and how they are run.

A suite file is a standard GX ``ExpectationSuite`` in JSON (it loads with
``gx.ExpectationSuite(**document)``), named by its source's declaration
(transforms/<source>.py, which also says which columns must exist):

* ``{"$PARAMETER": NAME}`` in kwargs is GX's own run-time parameter, bound here (the job
  codes of the catalog);
* ``meta.each_repeating_column``, where present, is an expectation applied to each of
  the source's repeating columns (the survey's ``qNN``, which change every year).

Values that belong to a file (the date in its name) are *binding columns* the caller
adds to each frame (``_file_no``, ``_file_date``, ...), so one bound suite validates
many files at once: Great Expectations has a large fixed cost per validation.

``meta.rule`` names the rule in quarantine records and errors. ``meta.level`` says what
a failure means: absent = the row is quarantined; ``file_when_all_rows_fail`` = the
file is rejected when no row passes (a mislabelled file), otherwise the failing rows
are quarantined.

Three engines evaluate the same bound suite: ``gx`` (Great Expectations itself),
``vectorised`` (the same expectation semantics in pandas) and ``sql`` (the suite compiled
to SQL and run set-based by DuckDB, ``expectations/sql.py``), the last two for bulk
history loads where GX costs minutes. Tests hold the three to the same results, and GX
re-checks a sample of whatever the other two judged (``cross_check``).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rxstaff.expectations.gx_import import great_expectations
from rxstaff.transforms.source import Reference, Source
from rxstaff.transforms.sources import source

ENGINES = ("gx", "vectorised", "sql")
# "auto" validation: Great Expectations itself for a run of up to this much new data (a
# night's budget and training files, the roster of a pharmacy of up to ~20,000); above
# it the suites compiled to SQL, GX re-checking a sample of every file in a companion
# process, off the run's critical path. Below it the companion's own start costs more
# than it spares (docs/decisions.md).
AUTO_GX_MAX_BYTES = 4 * 1024 * 1024
MAX_ECHO = 40


@dataclass(frozen=True)
class Rule:
    """One bound expectation of a suite."""

    type: str
    kwargs: dict[str, Any]
    rule: str
    level: str = "row"

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column") or self.kwargs.get("column_A")

    @property
    def columns(self) -> list[str]:
        names = [self.kwargs.get(k) for k in ("column", "column_A", "column_B")]
        names += self.kwargs.get("column_list", [])
        return [n for n in names if n and not n.startswith("_")]


@dataclass
class Outcome:
    """What validation found in a chunk of files of one source."""

    # file number (``_file_no``) -> reasons the whole file is rejected
    file_errors: dict[int, list[str]] = field(default_factory=dict)
    # one row per (chunk row position, rule): index, rule, detail
    row_failures: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["index", "rule", "detail"])
    )
    rules: list[Rule] = field(default_factory=list)  # the bound suite that was run


def choose_engine(choice: str, due_bytes: int) -> str:
    """The engine a run's files are validated by: the one chosen, or for ``auto`` GX up
    to ``AUTO_GX_MAX_BYTES`` of new files and the suites in SQL above."""
    if choice != "auto":
        return choice
    return "sql" if due_bytes > AUTO_GX_MAX_BYTES else "gx"


def gx_beside(choice: str, due_bytes: int) -> bool:
    """Whether GX's part of a run (results, sample checks, Data Docs) goes to a companion
    process: a large run validated by another engine."""
    return due_bytes > AUTO_GX_MAX_BYTES and choose_engine(choice, due_bytes) != "gx"


@cache
def load_suite(name: str) -> dict[str, Any]:
    """The raw suite document of a source (``roster``, ``budget``, ...): a file shipped in
    expectations/, or one at the absolute path its declaration names."""
    declared = source(name).suite
    if Path(declared).is_absolute():
        return json.loads(Path(declared).read_text("utf-8"))
    text = resources.files("rxstaff.expectations").joinpath(declared).read_text("utf-8")
    return json.loads(text)


def bind_rules(name: str, params: dict[str, Any]) -> list[Rule]:
    """The suite's expectations with parameters bound, and the repeating columns' one."""
    document = load_suite(name)
    rules: list[Rule] = []
    for raw in document["expectations"]:
        meta = raw.get("meta", {})
        kwargs = _bind(copy.deepcopy(raw["kwargs"]), params)
        rules.append(Rule(raw["type"], kwargs, meta["rule"], meta.get("level", "row")))
    each = document.get("meta", {}).get("each_repeating_column")
    if each:
        for column in params.get("question_columns", []):
            kwargs = {"column": column, **_bind(copy.deepcopy(each["kwargs"]), params)}
            rules.append(Rule(each["type"], kwargs, each["meta"]["rule"]))
    return rules


def _bind(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$PARAMETER"}:
            return params.get(value["$PARAMETER"])
        return {k: _bind(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_bind(v, params) for v in value]
    return value


def parameters(src: Source, chunk: pd.DataFrame, ref: Reference) -> dict[str, Any]:
    """The values a suite's ``$PARAMETER``s and repeating columns refer to, for this chunk."""
    return {
        "job_codes": ref.job_codes,
        "job_families": ref.job_families,
        "question_columns": src.repeating_columns(list(chunk.columns)),
    }


def validate_chunk(src: Source, chunk: pd.DataFrame, ref: Reference, engine: str = "gx") -> Outcome:
    """Validate a chunk of files of one source in one pass.

    The chunk holds trimmed strings (personal columns dropped, required columns present)
    plus the binding columns; ``_file_no`` tells its files apart. ``row_number`` is not
    validated: it is the pipeline's, not the file's.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}; use one of {ENGINES}")
    leaked = set(chunk.columns) & set(src.personal_columns)
    if leaked:
        raise ValueError(f"personal columns must be dropped before validation: {sorted(leaked)}")
    rules = bind_rules(src.name, parameters(src, chunk, ref))
    chunk = chunk.drop(columns=["row_number"], errors="ignore").reset_index(drop=True)
    failed = run_engine(engine, chunk, rules)
    outcome = _judge(chunk, rules, failed, src.echoable_columns)
    outcome.rules = rules
    return outcome


def run_engine(engine: str, frame: pd.DataFrame, rules: list[Rule]) -> dict[int, np.ndarray]:
    """The row positions each rule finds unexpected, by rule position, as ``engine`` judges."""
    if engine == "gx":
        return _run_gx(frame, rules)
    if engine == "sql":
        from rxstaff.expectations.sql import run_sql

        return run_sql(frame, rules)
    return _run_vectorised(frame, rules)


def _judge(
    chunk: pd.DataFrame,
    rules: list[Rule],
    failed: dict[int, np.ndarray],
    echoable: frozenset[str],
) -> Outcome:
    outcome = Outcome()
    parts: list[pd.DataFrame] = []
    file_no = chunk["_file_no"].to_numpy()
    for position, rule in enumerate(rules):
        indexes = failed.get(position)
        if indexes is None or not len(indexes):
            continue
        if rule.level == "file_when_all_rows_fail":
            indexes = _reject_mislabelled(chunk, rule, indexes, outcome)
            if not len(indexes):
                continue
        parts.append(
            pd.DataFrame(
                {
                    "index": indexes,
                    "rule": rule.rule,
                    "detail": describe(rule, chunk, indexes, echoable),
                    "_file_no": file_no[indexes],
                }
            )
        )
    if parts:
        outcome.row_failures = pd.concat(parts, ignore_index=True)
    return outcome


def _reject_mislabelled(
    chunk: pd.DataFrame, rule: Rule, indexes: np.ndarray, outcome: Outcome
) -> np.ndarray:
    """Reject the files where the rule failed on every checked row; keep the rest's failures."""
    file_no = chunk["_file_no"].to_numpy()
    failing = pd.Series(file_no[indexes]).value_counts()
    checked = chunk.loc[chunk[rule.column].notna(), "_file_no"].value_counts()
    whole = [int(f) for f, n in zip(failing.index, failing, strict=True) if n >= checked.get(f, 0)]
    for f in whole:
        outcome.file_errors.setdefault(f, []).append(
            f"rule {rule.rule} failed on every row of column '{rule.column}'"
        )
    return indexes[~np.isin(file_no[indexes], whole)]


def describe(
    rule: Rule, chunk: pd.DataFrame, indexes: np.ndarray, echoable: frozenset[str]
) -> pd.Series:
    """Quarantine details: the rule and its columns, with a value only where safe to echo
    (codes, dates and numbers help an auditor; identifiers and free text stay out)."""
    detail = pd.Series(f"{rule.type} on {', '.join(rule.columns)}", index=range(len(indexes)))
    for column in (c for c in rule.columns if c in echoable):
        values = chunk[column].iloc[indexes].reset_index(drop=True)
        shown = ("'" + values.str.slice(0, MAX_ECHO) + "'").fillna("empty")
        detail = detail + f"; {column}=" + shown
    return detail.astype("string")


# --- the vectorised engine ---------------------------------------------------------------


def _run_vectorised(frame: pd.DataFrame, rules: list[Rule]) -> dict[int, np.ndarray]:
    """GX's semantics for the expectation types the suites use, as pandas masks."""
    failed: dict[int, np.ndarray] = {}
    if frame.empty:
        return failed
    for position, rule in enumerate(rules):
        scope = _row_condition(frame, rule)
        bad = _unexpected(frame, rule) & scope
        if bad.any():
            failed[position] = np.flatnonzero(bad)
    return failed


def _row_condition(frame: pd.DataFrame, rule: Rule) -> np.ndarray:
    condition = rule.kwargs.get("row_condition")
    if not condition:
        return np.ones(len(frame), dtype=bool)
    scope = pd.Series(frame.eval(condition, engine="python"), index=frame.index)
    return scope.fillna(False).to_numpy(dtype=bool)


def _unexpected(frame: pd.DataFrame, rule: Rule) -> np.ndarray:
    kw = rule.kwargs
    kind = rule.type
    if kind == "expect_compound_columns_to_be_unique":
        return frame.duplicated(subset=kw["column_list"], keep=False).to_numpy()
    if kind.startswith("expect_column_pair_values"):
        a, b = frame[kw["column_A"]], frame[kw["column_B"]]
        present = (a.notna() & b.notna()).to_numpy()
        if kind == "expect_column_pair_values_to_be_equal":
            ok = (a == b).fillna(False).to_numpy(dtype=bool)
        else:
            ok = (a >= b if kw.get("or_equal") else a > b).fillna(False).to_numpy(dtype=bool)
        return present & ~ok
    values = frame[kw["column"]]
    present = values.notna().to_numpy()
    if kind == "expect_column_values_to_not_be_null":
        return ~present
    if kind == "expect_column_values_to_be_null":
        return present
    if kind == "expect_column_values_to_match_regex":
        ok = values.str.contains(kw["regex"], regex=True).fillna(False).to_numpy(dtype=bool)
    elif kind == "expect_column_values_to_be_in_set":
        ok = values.isin(list(kw["value_set"])).to_numpy()
    elif kind == "expect_column_values_to_match_strftime_format":
        parsed = pd.to_datetime(values, format=kw["strftime_format"], errors="coerce")
        ok = parsed.notna().to_numpy()
    else:
        raise NotImplementedError(f"the vectorised engine does not know {kind}")
    return present & ~ok


# --- Great Expectations --------------------------------------------------------------------


@cache
def _batch_definition() -> Any:
    gx = great_expectations()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("landing")
    asset = source.add_dataframe_asset("extract")
    return asset.add_batch_definition_whole_dataframe("whole_chunk")


def _run_gx(frame: pd.DataFrame, rules: list[Rule]) -> dict[int, np.ndarray]:
    """Run the rules with GX; the row positions each rule found unexpected, by rule position."""
    gx = great_expectations()

    if not rules or frame.empty:
        return {}
    batch_definition = _batch_definition()  # GX needs its context before any suite exists
    suite = gx.ExpectationSuite(name="bound")
    for position, rule in enumerate(rules):
        suite.add_expectation(
            gx.expectations.registry.get_expectation_impl(rule.type)(
                **rule.kwargs, meta={"rule": rule.rule, "position": position}
            )
        )
    # GX compares Python objects: strings and None, on a plain RangeIndex.
    data = frame.reset_index(drop=True).astype(object)
    data = data.where(frame.notna().to_numpy(), None)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": data})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failed: dict[int, np.ndarray] = {}
    for res in result.results:
        if res.success:
            continue
        position = int(res.expectation_config.meta["position"])
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {rules[position].rule} could not run: "
                f"{res.exception_info.get('exception_message')}"
            )
        indexes = res.result.get("unexpected_index_list") or []
        if indexes and isinstance(indexes[0], dict):  # compound rules report dicts
            indexes = [d.get("index", d) for d in indexes]
        failed[position] = np.array(sorted(int(i) for i in indexes), dtype=np.int64)
    return failed


# --- GX's word on a sample, when another engine (sql, vectorised) validates the files ---

SAMPLE_ROWS_PER_FILE = 200
# GX is slow per row: the first 200 rows of each of a history load's thousands of small
# training files kept a core busy for long. A chunk of many small files samples fewer
# rows of each (never under SAMPLE_MIN_ROWS_PER_FILE): still every file, a bounded chunk.
SAMPLE_ROWS_PER_CHUNK = 10_000
SAMPLE_MIN_ROWS_PER_FILE = 20


class EnginesDisagree(RuntimeError):
    """Another engine (sql, vectorised) and Great Expectations judged the same rows
    differently."""


def sample_rows_per_file(files: int) -> int:
    """How many first rows of each of a chunk's ``files`` Great Expectations re-checks."""
    share = SAMPLE_ROWS_PER_CHUNK // max(files, 1)
    return max(SAMPLE_MIN_ROWS_PER_FILE, min(SAMPLE_ROWS_PER_FILE, share))


def sample_for_cross_check(chunk: pd.DataFrame) -> pd.DataFrame:
    """The first rows of every file of a chunk: what Great Expectations re-checks."""
    files = chunk.groupby("_file_no", sort=False)
    return files.head(sample_rows_per_file(files.ngroups))


def cross_check(
    src: Source, sample: pd.DataFrame, ref: Reference, engine: str = "vectorised"
) -> int:
    """Great Expectations validates ``sample`` (the first rows of every file of the chunks
    ``engine``, vectorised or sql, validated: ``sample_for_cross_check`` of each); the two
    must find the same unexpected rows, rule by rule. The rows checked; ``EnginesDisagree``
    (which fails the run, all or nothing) if they differ. One call per source: GX has a
    large fixed cost per validation, whatever its rows."""
    rules = bind_rules(src.name, parameters(src, sample, ref))
    frame = sample.drop(columns=["row_number"], errors="ignore").reset_index(drop=True)
    by_gx, by_twin = _run_gx(frame, rules), run_engine(engine, frame, rules)
    for position, rule in enumerate(rules):
        gx_rows = set(by_gx.get(position, np.array([], dtype=np.int64)).tolist())
        twin_rows = set(by_twin.get(position, np.array([], dtype=np.int64)).tolist())
        if gx_rows != twin_rows:
            raise EnginesDisagree(
                f"{src.name}: rule {rule.rule}: Great Expectations found "
                f"{len(gx_rows)} unexpected row(s) in a sample of {len(frame)}, the "
                f"{engine} engine {len(twin_rows)}; validate with --validation gx"
            )
    return len(frame)
