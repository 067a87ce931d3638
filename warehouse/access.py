"""Least privilege for BI tools: a read-only PostgreSQL role that sees the BI interface only.

The role may SELECT the dimensions, facts and mart views, nothing else: no staging (raw
survey answers live there), no audit detail, no writes. Views run with their owner's
rights, so reading a mart needs no grant on the tables beneath it. Views are recreated
by every run, so the roles granted are remembered in ``rxstaff_setting`` and granted
again after each run.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from rxstaff.warehouse.declarations import bi_relations

BI_RELATIONS = bi_relations()
ROLE_SETTING = "bi_role:"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AccessError(RuntimeError):
    """The read-only role cannot be set up here."""


def grant_bi_role(
    engine: sa.Engine, role: str, login: bool = True, password: str | None = None
) -> list[str]:
    """Create or update the role and grant it exactly the BI relations; what it can read."""
    if engine.dialect.name != "postgresql":
        raise AccessError(
            "roles are a PostgreSQL feature; for DuckDB, give BI tools the "
            "read-only copy published with `rxstaff nightly --read-copy PATH`"
        )
    if not ROLE_NAME.match(role):
        raise AccessError(f"{role!r} is not a plain lower-case role name")
    with engine.begin() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).first()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sa.text(
                f"{verb} ROLE {role} {'LOGIN' if login else 'NOLOGIN'} "
                "NOSUPERUSER NOCREATEDB NOCREATEROLE"
            )
        )
        if password:
            # DDL takes no bind parameters; quote the literal the way PostgreSQL does.
            literal = "'" + password.replace("'", "''") + "'"
            conn.exec_driver_sql(f"ALTER ROLE {role} PASSWORD {literal}")
        conn.execute(
            sa.text(
                "INSERT INTO rxstaff_setting (name, value) SELECT :n, 'granted' "
                "WHERE NOT EXISTS (SELECT 1 FROM rxstaff_setting WHERE name = :n)"
            ),
            {"n": ROLE_SETTING + role},
        )
        apply_grants(conn, [role])
    return BI_RELATIONS


def bi_roles(conn: sa.Connection) -> list[str]:
    rows = conn.execute(
        sa.text("SELECT name FROM rxstaff_setting WHERE name LIKE :p"), {"p": ROLE_SETTING + "%"}
    )
    return [name.removeprefix(ROLE_SETTING) for (name,) in rows]


def apply_grants(conn: sa.Connection, roles: list[str] | None = None) -> None:
    """Grant SELECT on the BI relations, and revoke everything else in the schema."""
    if conn.dialect.name != "postgresql":
        return
    for role in roles if roles is not None else bi_roles(conn):
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
        database = conn.execute(sa.text("SELECT current_database()")).scalar()
        conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO {role}'))
        # No TEMP (temporary tables and functions) and no CREATE anywhere: PostgreSQL
        # grants TEMP to PUBLIC by default, so it is revoked from PUBLIC on the warehouse's
        # database and kept for the role that loads it.
        conn.execute(sa.text(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC, {role}'))
        conn.execute(sa.text(f'GRANT TEMPORARY ON DATABASE "{database}" TO CURRENT_USER'))
        conn.execute(sa.text(f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC, {role}'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        conn.execute(sa.text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
        conn.execute(sa.text(f"GRANT SELECT ON {', '.join(BI_RELATIONS)} TO {role}"))
