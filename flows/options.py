"""What a run is asked to do: its parameters and settings, resolved once, up front.

Everything that can make a run impossible (a bad setting, an unreadable catalog, no
key) is found here, before the landing folder or the warehouse is touched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from rxstaff import settings
from rxstaff.flows.landing import read_career_paths, read_job_catalog
from rxstaff.flows.summary import RunContext, RunSummary
from rxstaff.transforms.catalog import reference, stage_career_paths, stage_catalog
from rxstaff.warehouse.connection import describe_target
from rxstaff.warehouse.transaction import Setup


@dataclass(frozen=True)
class RunOptions:
    url: str
    setup: Setup
    ctx: RunContext


def resolve(
    warehouse: str | None,
    run_date: date | None,
    min_group_size: int | None,
    catalog: str | None,
    validation: str,
    paths: str | None = None,
    in_deployment: bool = False,
) -> RunOptions:
    """Settings by precedence (parameter, environment, default) and a new run's context."""
    if validation not in settings.VALIDATION_CHOICES:
        choices = ", ".join(settings.VALIDATION_CHOICES)
        raise settings.ConfigurationError(
            f"validation must be one of {choices}, not {validation!r}"
        )
    url, secret = settings.warehouse_url(warehouse), settings.id_secret()
    if in_deployment and settings.relative_duckdb_path(url):
        raise settings.ConfigurationError(
            f"{url} is relative: a deployment's run would put it in the worker's working "
            "folder (a temporary one, for a pulled deployment) and lose it. Set "
            f"${settings.WAREHOUSE_ENV} to an absolute path, e.g. "
            "duckdb:////srv/rxstaff/warehouse.duckdb"
        )
    catalog_file, paths_file = (
        settings.reference_file("catalog", catalog),
        settings.reference_file("paths", paths),
    )
    job_catalog = stage_catalog(read_job_catalog(catalog_file))
    career_paths = stage_career_paths(read_career_paths(paths_file), job_catalog)
    group_size = settings.min_group_size(min_group_size)
    setup = Setup(secret, job_catalog, career_paths, group_size)
    run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    summary = RunSummary(run_id=run_id, warehouse=describe_target(url))
    day = run_date or date.today()
    ref = reference(job_catalog, secret, settings.date_bounds())
    ctx = RunContext(run_id, day, ref, summary, validation)
    return RunOptions(url, setup, ctx)
