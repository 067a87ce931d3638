"""What the last committed run saw of each landing file: its size and times, and the
hash of its bytes (``rxstaff_landing_hash``).

Every run used to read and hash the whole landing folder (2.2 GB for five years of
weekly rosters) to tell an unchanged file from a correction. A file whose size,
modification time, change time and inode are all as a committed run recorded them holds
the bytes that run hashed: writing to a file sets its change time, which no tool can set
back (``touch -d`` and ``rsync -t`` restore the modification time only, and change it).
A file changed within two seconds of being looked at is not recorded (it could change
again within its file system's clock tick and keep its stats); ``rxstaff nightly
--rehash`` reads every file all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.loader import bulk_insert

TABLE = "rxstaff_landing_hash"


@dataclass(frozen=True)
class LandingHash:
    file_name: str  # relative to the landing folder
    size: int
    modified_ns: int
    changed_ns: int
    inode: int
    sha256: str

    def same_file(self, size: int, modified_ns: int, changed_ns: int, inode: int) -> bool:
        """Whether a file with these stats still holds the bytes this hash was made of."""
        return (self.size, self.modified_ns, self.changed_ns, self.inode) == (
            size,
            modified_ns,
            changed_ns,
            inode,
        )


def recorded(conn: sa.Connection) -> dict[str, LandingHash]:
    """The hash of every landing file as the last committed run saw it (none before
    schema 8)."""
    if not sa.inspect(conn).has_table(TABLE):
        return {}
    rows = conn.execute(
        sa.text(f"SELECT file_name, size, modified_ns, changed_ns, inode, sha256 FROM {TABLE}")
    )
    return {r[0]: LandingHash(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows}


def record(conn: sa.Connection, hashes: list[LandingHash]) -> None:
    """Replace the recorded hashes with what this run saw (a file gone is forgotten)."""
    conn.execute(sa.text(f"DELETE FROM {TABLE}"))
    bulk_insert(conn, TABLE, pd.DataFrame([vars(h) for h in hashes], columns=_COLUMNS))


_COLUMNS = ["file_name", "size", "modified_ns", "changed_ns", "inode", "sha256"]
