"""Settings the warehouse keeps about itself (``rxstaff_setting``)."""

from __future__ import annotations

import sqlalchemy as sa

from rxstaff.transforms.pseudonym import fingerprint, matches

SECRET_SETTING = "id_secret_fingerprint"


class SecretMismatch(RuntimeError):
    """The pseudonymisation key differs from the one this warehouse was built with."""


def check_secret(conn: sa.Connection, secret: str) -> None:
    """Record the key's fingerprint on first use; refuse a different key afterwards.

    Mixing keys would split every employee into two unrelated histories. The fingerprint
    is salted scrypt; one left by rxstaff 0.1 (a fast hash) is replaced once it matches.
    """
    found = conn.execute(
        sa.text("SELECT value FROM rxstaff_setting WHERE name = :n"), {"n": SECRET_SETTING}
    ).scalar()
    if found is None or (matches(secret, found) and not found.startswith("scrypt$")):
        conn.execute(sa.text("DELETE FROM rxstaff_setting WHERE name = :n"), {"n": SECRET_SETTING})
        conn.execute(
            sa.text("INSERT INTO rxstaff_setting VALUES (:n, :v)"),
            {"n": SECRET_SETTING, "v": fingerprint(secret)},
        )
    elif not matches(secret, found):
        raise SecretMismatch(
            "RXSTAFF_ID_SECRET is not the key this warehouse was built with: employee keys "
            "would not match. Use the original key, or rebuild into an empty warehouse."
        )
