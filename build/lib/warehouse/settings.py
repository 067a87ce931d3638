"""Settings the warehouse keeps about itself (``rxstaff_setting``)."""

from __future__ import annotations

import sqlalchemy as sa

SECRET_SETTING = "id_secret_fingerprint"


class SecretMismatch(RuntimeError):
    """The pseudonymisation key differs from the one this warehouse was built with."""


def check_secret(conn: sa.Connection, secret_fingerprint: str) -> None:
    """Record the key's fingerprint on first use; refuse a different key afterwards.

    Mixing keys would split every employee into two unrelated histories.
    """
    found = conn.execute(
        sa.text("SELECT value FROM rxstaff_setting WHERE name = :n"), {"n": SECRET_SETTING}
    ).scalar()
    if found is None:
        conn.execute(
            sa.text("INSERT INTO rxstaff_setting VALUES (:n, :v)"),
            {"n": SECRET_SETTING, "v": secret_fingerprint},
        )
    elif found != secret_fingerprint:
        raise SecretMismatch(
            "RXSTAFF_ID_SECRET is not the key this warehouse was built with: employee keys "
            "would not match. Use the original key, or rebuild into an empty warehouse."
        )
