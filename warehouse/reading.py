"""Reading a warehouse that must already be there: ``rxstaff metrics``, ``audit``, ``trace``.

Reading never creates a warehouse: connecting DuckDB to a file that is not there would
make an empty one, so a missing file is an error in one line, as is a database that
holds no rxstaff schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from rxstaff.warehouse.connection import Warehouse
from rxstaff.warehouse.schema import VERSION_TABLE


class NoWarehouse(RuntimeError):
    """There is no warehouse (or no built one) to read."""


@contextmanager
def existing_warehouse(warehouse: Warehouse) -> Iterator[sa.Connection]:
    """A connection to a built warehouse, or ``NoWarehouse``."""
    target = warehouse.file
    if target is not None and not target.exists():
        raise NoWarehouse(f"no warehouse at {target}: run `rxstaff nightly` (or `rxstaff demo`)")
    engine = warehouse.engine()
    try:
        with warehouse.with_retries(engine.connect) as conn:
            inspector = sa.inspect(conn)
            # a warehouse has its schema version; a copy published for readers, dim_job
            if not (inspector.has_table(VERSION_TABLE) or inspector.has_table("dim_job")):
                raise NoWarehouse(f"{warehouse.description} holds no rxstaff warehouse yet")
            yield conn
    finally:
        engine.dispose()
