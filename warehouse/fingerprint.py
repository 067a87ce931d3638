"""What each model was built from, so that a run rebuilds only what its loads changed.

A table's *content* fingerprint is its row count and the sum of a 64-bit hash of every
row: independent of row order, and changed by any row added, removed or altered (two
different contents agree with odds of about 2^-64). A model's *inputs* fingerprint
hashes its definition (columns, SQL, the smallest group shown) with the fingerprint of
each relation its SQL reads. A view has no content of its own: what stands for it is its
inputs fingerprint, so a mart reading another mart sees through it to the tables.

A table whose inputs fingerprint, and its own content, are those stored when it was last
built holds what a rebuild would give, and is left alone (the content check catches a
table changed since by other means: an older rxstaff, a hand edit); so is a mart's
published snapshot. This rests on ``depends_on`` naming exactly what the SQL reads,
which ``declarations`` enforces, and on models reading no clock (a model reading the
date would need rebuilding every day). The stored fingerprints live in
``rxstaff_setting`` and change in the run's transaction.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from rxstaff.warehouse.declarations import Declaration, declarations

BUILT_FROM = "built_from:"  # a model table: "<inputs>/<its content>" at its last build
PUBLISHED_FROM = "published_from:"  # a mart: "<inputs>@<run>" of the figures last kept


def content(conn: sa.Connection, relation: str) -> str:
    """Row count and the sum of each row's hash: ``count:sum``."""
    # The alias names the whole row; no column is called so (a column would win)
    if conn.dialect.name == "postgresql":
        row_hash = "hashtextextended(CAST(whole_row AS TEXT), 0)"
    else:  # DuckDB hashes the row as a struct, every column's type and value
        row_hash = "hash(whole_row)"
    count, total = conn.execute(
        sa.text(f"SELECT COUNT(*), SUM({row_hash}) FROM {relation} AS whole_row")
    ).one()
    return f"{count}:{total or 0}"


class Fingerprints:
    """A run's fingerprints of the relations models read, each computed once, until the
    relation is rebuilt (``forget``)."""

    def __init__(self, conn: sa.Connection, min_group_size: int | None = None) -> None:
        self.conn = conn
        self.min_group_size = min_group_size
        self._known: dict[str, str] = {}

    def of(self, name: str) -> str:
        """A table's content, a view's inputs."""
        if name not in self._known:
            decl = declarations().get(name)
            if decl is not None and decl.materialized == "view":
                self._known[name] = self.inputs(decl)
            else:
                self._known[name] = content(self.conn, name)
        return self._known[name]

    def inputs(self, decl: Declaration) -> str:
        """The model's definition and the fingerprint of everything it reads."""
        if decl.sql is None:
            raise ValueError(f"{decl.name} is not built from SQL")
        digest = hashlib.sha256()
        for part in (decl.name, ",".join(decl.column_names), decl.sql):
            digest.update(part.encode() + b"\0")
        if "{min_group_size}" in decl.sql:
            digest.update(f"min_group_size={self.min_group_size}\0".encode())
        for dependency in sorted(decl.depends_on):
            digest.update(f"{dependency}={self.of(dependency)}\0".encode())
        return digest.hexdigest()[:32]

    def forget(self, name: str) -> None:
        self._known.pop(name, None)

    def forget_given(self) -> None:
        """Forget all but the model tables: only the build writes those, while the run
        may still write what the models are given (staging, the audit trail)."""
        tables = {d.name for d in declarations().values() if d.materialized == "table"}
        self._known = {k: v for k, v in self._known.items() if k in tables}


def stored(conn: sa.Connection, prefix: str) -> dict[str, str]:
    """The fingerprints kept under ``prefix``, by relation."""
    rows = conn.execute(
        sa.text("SELECT name, value FROM rxstaff_setting WHERE name LIKE :p"),
        {"p": prefix + "%"},
    )
    return {str(name)[len(prefix) :]: str(value) for name, value in rows}


def store(conn: sa.Connection, prefix: str, values: dict[str, str]) -> None:
    """Keep these fingerprints under ``prefix``, replacing the relations' old ones."""
    if not values:
        return
    forget_stored(conn, prefix, list(values))
    conn.execute(
        sa.text("INSERT INTO rxstaff_setting (name, value) VALUES (:n, :v)"),
        [{"n": prefix + name, "v": value} for name, value in values.items()],
    )


def forget_stored(conn: sa.Connection, prefix: str, names: list[str] | None = None) -> None:
    """Drop the kept fingerprints of ``names`` (all under ``prefix`` when None): those
    relations are rebuilt, or their figures kept anew, on the next run."""
    if names is None:
        conn.execute(sa.text("DELETE FROM rxstaff_setting WHERE name LIKE :p"), {"p": prefix + "%"})
        return
    if not names:
        return
    conn.execute(
        sa.text("DELETE FROM rxstaff_setting WHERE name = :n"),
        [{"n": prefix + name} for name in names],
    )
