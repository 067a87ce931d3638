"""From a published figure back to the file and row it came from (``rxstaff trace``).

Only what an auditor may read is used: the facts' lineage columns (``fct_vacancy``'s
opened/closed batch and row, ``fct_budget_release`` and ``fct_career_event``'s source
batch and row) and ``etl_batch`` (file name, sha256, whether a correction replaced it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


class NotFound(LookupError):
    """No fact with that id."""


@dataclass(frozen=True)
class Link:
    """One step of a chain: what it shows, and the row of the file that says so."""

    what: str
    batch_id: int | None
    row_number: int | None
    file_name: str | None = None
    sha256: str | None = None
    file_status: str | None = None  # loaded, or "superseded by batch N"


@dataclass(frozen=True)
class Chain:
    title: str
    facts: dict[str, Any]
    links: list[Link]


def trace_vacancy(conn: sa.Connection, vacancy_id: str) -> Chain:
    row = _one(conn, "SELECT * FROM fct_vacancy WHERE vacancy_id = :v", v=vacancy_id)
    if row is None:
        raise NotFound(
            f"no vacancy {vacancy_id!r} in fct_vacancy (a vacancy id is position_id@YYYY-MM-DD)"
        )
    links = [
        _link(
            conn, f"opened ({row['open_reason']})", row["opened_batch_id"], row["opened_row_number"]
        ),
    ]
    if row["closed_on"] is not None:
        links.append(_link(conn, "filled", row["closed_batch_id"], row["closed_row_number"]))
    release_id = row["backfill_release_id"]
    if release_id is not None:
        release = trace_release(conn, release_id)
        links += [
            Link(f"budget release {release_id}: {link.what}", *_rest(link))
            for link in release.links
        ]
    return Chain(f"vacancy {vacancy_id}", dict(row), links)


def trace_release(conn: sa.Connection, release_id: str) -> Chain:
    row = _one(conn, "SELECT * FROM fct_budget_release WHERE release_id = :r", r=release_id)
    if row is None:
        raise NotFound(f"no release {release_id!r} in fct_budget_release")
    what = f"{row['action']} {row['status']} (latest state)"
    return Chain(
        f"budget release {release_id}",
        dict(row),
        [_link(conn, what, row["source_batch_id"], row["source_row_number"])],
    )


def trace_event(conn: sa.Connection, event: str) -> Chain:
    """``event`` is EMPLOYEE_KEY@YYYY-MM-DD: every event of that employee on that day."""
    employee_key, _, day = event.partition("@")
    if not employee_key or not day:
        raise NotFound(f"{event!r} is not EMPLOYEE_KEY@YYYY-MM-DD")
    rows = (
        conn.execute(
            sa.text(
                "SELECT * FROM fct_career_event WHERE employee_key = :k "
                "AND CAST(event_date AS TEXT) = :d ORDER BY event_type"
            ),
            {"k": employee_key, "d": day},
        )
        .mappings()
        .all()
    )
    if not rows:
        raise NotFound(f"no career event of {employee_key!r} on {day} in fct_career_event")
    links = [
        _link(
            conn,
            f"{r['event_type']} {r['from_job_code'] or ''} -> {r['to_job_code'] or ''}".strip(),
            r["source_batch_id"],
            r["source_row_number"],
        )
        for r in rows
    ]
    return Chain(f"career events of {employee_key} on {day}", dict(rows[0]), links)


def _rest(link: Link) -> tuple[Any, ...]:
    return (link.batch_id, link.row_number, link.file_name, link.sha256, link.file_status)


def _one(conn: sa.Connection, sql: str, **params: Any) -> Any:
    return conn.execute(sa.text(sql), params).mappings().first()


def _link(conn: sa.Connection, what: str, batch_id: Any, row_number: Any) -> Link:
    if batch_id is None:
        return Link(what, None, None)
    batch = _one(
        conn,
        "SELECT file_name, sha256, status, superseded_by FROM etl_batch WHERE batch_id = :b",
        b=int(batch_id),
    )
    if batch is None:
        return Link(what, int(batch_id), _int(row_number), file_status="batch not found")
    status = batch["status"]
    if batch["superseded_by"] is not None:
        status = f"superseded by batch {batch['superseded_by']}"
    return Link(what, int(batch_id), _int(row_number), batch["file_name"], batch["sha256"], status)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
