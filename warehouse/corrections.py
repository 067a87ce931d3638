"""A corrected file replaces its earlier version's rows, and keeps them readable.

The rows leave staging (only live rows feed the models) for ``etl_replaced_row``, marked
with the batch that superseded them, so an auditor can see what a correction changed.
Rows of a private source (survey answers and respondents) go to ``stg_replaced_row``
instead, which no reader role and no published copy holds.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from rxstaff.warehouse.json_text import as_json
from rxstaff.warehouse.loader import bulk_insert

AUDITED = "etl_replaced_row"
PRIVATE = "stg_replaced_row"


def replace_rows(
    conn: sa.Connection,
    tables: tuple[str, ...],
    old_batch_id: int,
    new_batch_id: int,
    private: bool = False,
) -> int:
    """Move the old batch's staging rows out of ``tables``; the rows kept aside."""
    kept = 0
    for table in tables:
        rows = conn.execute(
            sa.text(f"SELECT * FROM {table} WHERE batch_id = :b ORDER BY row_number"),
            {"b": old_batch_id},
        ).mappings()
        records = [
            {
                "relation": table,
                "batch_id": old_batch_id,
                "row_number": int(row["row_number"]),
                "superseded_by": new_batch_id,
                "row_values": as_json(dict(row)),
            }
            for row in rows
        ]
        kept += bulk_insert(conn, PRIVATE if private else AUDITED, pd.DataFrame(records))
        conn.execute(sa.text(f"DELETE FROM {table} WHERE batch_id = :b"), {"b": old_batch_id})
    return kept
