"""The suites compiled to SQL: a third engine, set-based, run by DuckDB on a chunk.

Each bound rule becomes one SQL predicate that is true on the rows Great Expectations
would call unexpected; one query evaluates every predicate of the suite over the chunk
(DuckDB scans the Arrow-backed frame in place, on every core it is given). The
semantics are the vectorised twin's, which tests hold to GX's, and tests hold this engine
to both (tests/test_expectations.py), on generated and hostile values alike.

Where SQL and Python differ, the compiler translates or refuses:

* pair rules: only with ``ignore_row_if="either_value_is_missing"`` (what the suites
  say; GX's default would compare a row with one value missing).
* regular expressions: DuckDB uses RE2, where ``\\d`` is ASCII only; Python's ``\\d`` is
  any Unicode decimal digit, so ``\\d`` becomes ``\\p{Nd}``; Python's ``$`` also matches
  before a final line break, so it becomes ``\\n?$``. Classes whose meaning differs more
  (``\\w``, ``\\s``, ``\\b``) and look-arounds are refused by name, as is any row
  condition other than ``col=="v"``, ``col!="v"``, ``col.notna()`` and ``col.isna()``:
  a suite using them is validated with ``--validation gx``.
* nulls: an empty cell is NULL. A pair with a missing value is not a failure; in a row
  condition an empty cell is GX's ``None``: never ``=="v"``, always ``!="v"``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rxstaff.expectations.suite import Rule

POSITION = "_position"


class NotCompilable(NotImplementedError):
    """A rule the SQL engine cannot hold equal to Great Expectations."""


def run_sql(
    frame: pd.DataFrame, rules: list[Rule], threads: int | None = None
) -> dict[int, np.ndarray]:
    """Row positions each rule finds unexpected, by rule position (like ``_run_gx``)."""
    if frame.empty or not rules:
        return {}
    import duckdb

    predicates = [unexpected_when(rule) for rule in rules]
    flags = ", ".join(f"coalesce({p}, false) AS r{i}" for i, p in enumerate(predicates))
    # Only the failing rows come back: in a good extract, none.
    query = (
        f"SELECT * FROM (SELECT {POSITION}, {flags} FROM chunk) "
        f"WHERE {' OR '.join(f'r{i}' for i in range(len(predicates)))} ORDER BY {POSITION}"
    )
    chunk = frame.assign(**{POSITION: np.arange(len(frame), dtype=np.int64)})
    with duckdb.connect(config={"threads": threads} if threads else {}) as con:
        con.register("chunk", chunk)
        failing = con.execute(query).fetchnumpy()
    positions = np.asarray(failing[POSITION], dtype=np.int64)
    found = {}
    for index in range(len(predicates)):
        hits = positions[np.asarray(failing[f"r{index}"], dtype=bool)]
        if len(hits):
            found[index] = hits
    return found


def unexpected_when(rule: Rule) -> str:
    """The rule as a SQL predicate, true on the rows it finds unexpected."""
    scope = _row_condition(rule.kwargs.get("row_condition"))
    return f"({scope}) AND ({_unexpected(rule)})" if scope else _unexpected(rule)


def _unexpected(rule: Rule) -> str:
    kind, kw = rule.type, rule.kwargs
    if kind == "expect_compound_columns_to_be_unique":
        return _duplicated(kw["column_list"])
    if kind.startswith("expect_column_pair_values"):
        if kw.get("ignore_row_if") != "either_value_is_missing":
            # GX's default compares a row with one value missing; the compiler does not
            raise NotCompilable(
                f"the SQL engine compiles {kind} only with "
                f"ignore_row_if='either_value_is_missing', not {kw.get('ignore_row_if')!r}"
            )
        a, b = ident(kw["column_A"]), ident(kw["column_B"])
        if kind == "expect_column_pair_values_to_be_equal":
            ok = f"{a} = {b}"
        elif kind == "expect_column_pair_values_a_to_be_greater_than_b":
            ok = f"{a} >= {b}" if kw.get("or_equal") else f"{a} > {b}"
        else:
            raise NotCompilable(f"the SQL engine does not know {kind}")
        return f"{a} IS NOT NULL AND {b} IS NOT NULL AND NOT ({ok})"
    column = ident(kw["column"])
    if kind == "expect_column_values_to_not_be_null":
        return f"{column} IS NULL"
    if kind == "expect_column_values_to_be_null":
        return f"{column} IS NOT NULL"
    if kind == "expect_column_values_to_match_regex":
        ok = f"regexp_matches({column}, {literal(re2(kw['regex']))})"
    elif kind == "expect_column_values_to_be_in_set":
        values = list(kw["value_set"] or [])
        ok = f"{column} IN ({', '.join(literal(str(v)) for v in values)})" if values else "false"
    else:
        raise NotCompilable(f"the SQL engine does not know {kind}")
    return f"{column} IS NOT NULL AND NOT ({ok})"


def _duplicated(columns: list[str]) -> str:
    """True on every row whose values of ``columns`` another row repeats (empty cells equal,
    as pandas' ``duplicated``). A semi-join on the repeated keys: DuckDB decorrelates it,
    and a window would carry every column through a sort."""
    names = ", ".join(ident(c) for c in columns)
    same = " AND ".join(f"d.{ident(c)} IS NOT DISTINCT FROM chunk.{ident(c)}" for c in columns)
    repeated = f"SELECT {names} FROM chunk GROUP BY ALL HAVING count(*) > 1"
    return f"EXISTS (SELECT 1 FROM ({repeated}) d WHERE {same})"


_CONDITION = re.compile(r'^\s*(\w+)\s*(==|!=)\s*"([^"\\]*)"\s*$|^\s*(\w+)\.(notna|isna)\(\)\s*$')


def _row_condition(condition: str | None) -> str | None:
    """A pandas row condition as SQL (an empty cell is None to GX: never ``==``, always ``!=``)."""
    if not condition:
        return None
    match = _CONDITION.match(condition)
    if match is None:
        raise NotCompilable(f"the SQL engine cannot compile the row condition {condition!r}")
    column, operator, value, tested, method = match.groups()
    if tested:
        return f"{ident(tested)} IS {'NOT ' if method == 'notna' else ''}NULL"
    # As in Python (GX compares objects): an empty cell is not equal to any value.
    sql_operator = "IS NOT DISTINCT FROM" if operator == "==" else "IS DISTINCT FROM"
    return f"{ident(column)} {sql_operator} {literal(value)}"


_REFUSED = re.compile(r"\\[wWsSbBAZ]|\(\?[=!<]")


def re2(pattern: str) -> str:
    """A Python regular expression as RE2 with the same meaning on the suites' patterns."""
    refused = _REFUSED.search(pattern)
    if refused:
        raise NotCompilable(
            f"the SQL engine does not translate {refused.group()!r} in the pattern {pattern!r}"
        )
    out: list[str] = []
    position, class_opened = 0, -1  # where the open character class began, if any
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            escaped = pattern[position + 1 : position + 2]
            out.append(_UNICODE_DIGITS.get(escaped, char + escaped))
            position += 2
            continue
        if class_opened >= 0:
            # a ] first in the class (or after its ^) is a literal bracket
            if char == "]" and position > class_opened + 1 + (pattern[class_opened + 1] == "^"):
                class_opened = -1
        elif char == "[":
            class_opened = position
        elif char == "$":
            char = "\\n?$"  # Python's $ also matches before a final line break
        out.append(char)
        position += 1
    return "".join(out)


_UNICODE_DIGITS = {"d": "\\p{Nd}", "D": "\\P{Nd}"}


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
