"""The figures each run published, kept so that any past night can be read back.

After a run that changed the warehouse has built its marts, ``keep_published`` stores
every mart row (``etl_metric_snapshot``: grain as JSON text, the other columns as JSON
text) and the figures that differ from the run before it (``rxstaff_metric_change``,
read through the ``etl_metric_change`` view with the batches responsible).
``as_published`` reads a mart back as it stood after a given run.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.declarations import Declaration, declarations
from rxstaff.warehouse.fingerprint import PUBLISHED_FROM, Fingerprints, store, stored
from rxstaff.warehouse.json_text import as_json
from rxstaff.warehouse.loader import bulk_insert

SNAPSHOT = "etl_metric_snapshot"
CHANGES = "rxstaff_metric_change"


class UnknownRun(LookupError):
    """No such run, or no figures published by it or before it."""


def marts() -> list[Declaration]:
    return [d for d in declarations().values() if d.name.startswith("mart_")]


def grain(decl: Declaration) -> list[str]:
    """The columns that name a row of the mart (its first declared unique key)."""
    if not decl.unique:
        raise ValueError(f"{decl.name} declares no unique key: its rows cannot be compared")
    return list(decl.unique[0])


def keep_published(conn: sa.Connection, run_id: str, prints: Fingerprints | None = None) -> int:
    """Store every mart row as this run publishes it and what changed; the rows kept.

    A mart whose inputs are as they were when the run before published it (the same
    fingerprint, ``fingerprint.py``) shows the same rows: they are copied from that run's
    snapshot in the database, not computed again, and nothing in it changed. ``prints``:
    the run's fingerprints, the smallest group shown among them."""
    previous = _latest_publishing_run(conn, before=run_id)
    prints = prints or Fingerprints(conn)
    inputs = {decl.name: prints.of(decl.name) for decl in marts()}
    last = stored(conn, PUBLISHED_FROM)
    same = [m for m in inputs if previous and last.get(m) == f"{inputs[m]}@{previous}"]
    computed = [decl for decl in marts() if decl.name not in same]
    before = _snapshot_by_relation(conn, previous) if previous and computed else {}
    snapshot: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for decl in computed:
        now = _mart_rows(conn, decl)
        snapshot += (
            {"run_id": run_id, "relation": decl.name, "row_key": k, "row_values": v}
            for k, v in now.items()
        )
        if previous:
            changes += (
                {"run_id": run_id, "relation": decl.name, **change}
                for change in changed_values(before.get(decl.name, {}), now)
            )
    # One insert of each: a bulk insert has a fixed cost whatever its size
    bulk_insert(conn, CHANGES, pd.DataFrame(changes))
    kept = bulk_insert(conn, SNAPSHOT, pd.DataFrame(snapshot))
    if same:
        kept += _copy_snapshot(conn, str(previous), run_id, same)
    store(conn, PUBLISHED_FROM, {m: f"{fp}@{run_id}" for m, fp in inputs.items()})
    return kept


def _copy_snapshot(conn: sa.Connection, source: str, run_id: str, relations: list[str]) -> int:
    """The marts' rows as ``source`` kept them, kept again as ``run_id``'s."""
    copied = conn.execute(
        sa.text(
            f"INSERT INTO {SNAPSHOT} (run_id, relation, row_key, row_values) "
            f"SELECT :run, relation, row_key, row_values FROM {SNAPSHOT} "
            "WHERE run_id = :source AND relation IN :relations"
        ).bindparams(sa.bindparam("relations", expanding=True)),
        {"run": run_id, "source": source, "relations": relations},
    )
    return int(copied.rowcount)


def changed_values(before: dict[str, str], now: dict[str, str]) -> list[dict[str, Any]]:
    """Each (row, column) whose value differs; a new row's values have no old value."""
    found = []
    for row_key in [*now, *(k for k in before if k not in now)]:
        old = json.loads(before.get(row_key, "{}"))
        new = json.loads(now.get(row_key, "{}"))
        for column in [*new, *(c for c in old if c not in new)]:
            if column in old and column in new and old[column] == new[column]:
                continue
            found.append(
                {
                    "row_key": row_key,
                    "column_name": column,
                    "old_value": _text(old, column),
                    "new_value": _text(new, column),
                }
            )
    return found


def _text(values: dict[str, Any], column: str) -> str | None:
    return json.dumps(values[column]) if column in values else None


def _mart_rows(conn: sa.Connection, decl: Declaration) -> dict[str, str]:
    keys = grain(decl)
    rest = [c for c in decl.column_names if c not in keys]
    columns = ", ".join(keys + rest)
    order = ", ".join(keys)
    rows = conn.execute(sa.text(f"SELECT {columns} FROM {decl.name} ORDER BY {order}"))
    return {
        as_json({k: row[k] for k in keys}): as_json({c: row[c] for c in rest})
        for row in rows.mappings()
    }


def _snapshot_rows(conn: sa.Connection, relation: str, run_id: str) -> dict[str, str]:
    rows = conn.execute(
        sa.text(f"SELECT row_key, row_values FROM {SNAPSHOT} WHERE run_id = :r AND relation = :m"),
        {"r": run_id, "m": relation},
    )
    return {key: values for key, values in rows}


def _snapshot_by_relation(conn: sa.Connection, run_id: str) -> dict[str, dict[str, str]]:
    """Every mart row a run published: row values by row key, by mart."""
    rows = conn.execute(
        sa.text(f"SELECT relation, row_key, row_values FROM {SNAPSHOT} WHERE run_id = :r"),
        {"r": run_id},
    )
    found: dict[str, dict[str, str]] = {}
    for relation, key, values in rows:
        found.setdefault(relation, {})[key] = values
    return found


def _latest_publishing_run(conn: sa.Connection, before: str | None = None) -> str | None:
    """The newest run with a snapshot (other than ``before``), in the order runs started."""
    found = conn.execute(
        sa.text(
            "SELECT r.run_id FROM etl_run r "
            f"WHERE EXISTS (SELECT 1 FROM {SNAPSHOT} s WHERE s.run_id = r.run_id) "
            "AND r.run_id <> :before "
            "AND r.started_at <= COALESCE("
            "  (SELECT started_at FROM etl_run WHERE run_id = :before), r.started_at) "
            "ORDER BY r.started_at DESC, r.run_id DESC LIMIT 1"
        ),
        {"before": before or ""},
    ).scalar()
    return str(found) if found is not None else None


def as_published(
    conn: sa.Connection, relation: str, run_id: str | None = None
) -> tuple[str, pd.DataFrame]:
    """The mart as it stood after ``run_id`` (default: the latest run): the run whose
    figures those are (the last one at or before it that changed the warehouse), and the
    rows, in the mart's own columns."""
    decl = _mart(relation)
    if run_id is not None:
        exists = conn.execute(
            sa.text("SELECT 1 FROM etl_run WHERE run_id = :r"), {"r": run_id}
        ).first()
        if not exists:
            raise UnknownRun(f"no run {run_id!r} in etl_run")
        published = run_id if _has_snapshot(conn, run_id) else None
        published = published or _latest_publishing_run(conn, before=run_id)
    else:
        published = _latest_publishing_run(conn)
    if published is None:
        raise UnknownRun("no run published figures at or before that run")
    rows = [
        {**json.loads(key), **json.loads(values)}
        for key, values in _snapshot_rows(conn, relation, published).items()
    ]
    return published, pd.DataFrame(rows, columns=decl.column_names)


def _has_snapshot(conn: sa.Connection, run_id: str) -> bool:
    found = conn.execute(
        sa.text(f"SELECT 1 FROM {SNAPSHOT} WHERE run_id = :r LIMIT 1"), {"r": run_id}
    ).first()
    return found is not None


def _mart(relation: str) -> Declaration:
    found = {d.name: d for d in marts()}
    if relation not in found:
        raise UnknownRun(f"{relation!r} is not a mart; marts: {', '.join(sorted(found))}")
    return found[relation]


def changes_of(
    conn: sa.Connection, relation: str, run_id: str | None = None
) -> tuple[str, pd.DataFrame]:
    """The figures of the mart that a run changed (default: the latest run that published
    figures), with the batches it loaded or superseded."""
    _mart(relation)
    run = run_id or _latest_publishing_run(conn)
    if run is None:
        raise UnknownRun("no run has published figures yet")
    frame = pd.read_sql(
        sa.text(
            'SELECT row_key, "column", old_value, new_value, loaded_batches, '
            "superseded_batches FROM etl_metric_change WHERE run_id = :r AND relation = :m "
            'ORDER BY row_key, "column"'
        ),
        conn,
        params={"r": run, "m": relation},
    )
    # The grain as columns of its own, as the mart shows it.
    keys = pd.DataFrame([json.loads(k) for k in frame.pop("row_key")], index=frame.index)
    return run, pd.concat([keys, frame], axis=1)
