"""Where configuration comes from: arguments first, then the environment, then defaults.

A run's settings are resolved once, before the landing folder or the warehouse is touched
(``resolve``), into one frozen ``RunSettings``: every setting that can make a run
impossible stops it here, in one line, and nothing the run does afterwards reads the
environment.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rxstaff import alert_channels
from rxstaff.alert_channels import AlertSettings
from rxstaff.staffing_report.options import ReportOptionError, ReportOptions
from rxstaff.staffing_report.options import from_environment as report_options
from rxstaff.warehouse.connection import DEFAULT_URL, NotAWarehouseUrl, Warehouse

if TYPE_CHECKING:  # pandas and the warehouse's loading code: only when a run is resolved
    from rxstaff.transforms.source import Reference
    from rxstaff.warehouse.transaction import Setup

WAREHOUSE_ENV = "RXSTAFF_WAREHOUSE_URL"
WAREHOUSE_BLOCK_ENV = "RXSTAFF_WAREHOUSE_URL_BLOCK"
SECRET_ENV = "RXSTAFF_ID_SECRET"
SECRET_BLOCK_ENV = "RXSTAFF_ID_SECRET_BLOCK"
LANDING_ENV = "RXSTAFF_LANDING"
MIN_GROUP_ENV = "RXSTAFF_MIN_GROUP_SIZE"
# The pharmacy's own reference files, replacing the shipped ones (app/reference/).
REFERENCE_ENV = {"catalog": "RXSTAFF_JOB_CATALOG", "paths": "RXSTAFF_CAREER_PATHS"}
DEMO_SECRET = "rxstaff-demo-secret-do-not-use-in-production"
DEFAULT_MIN_GROUP_SIZE = 5
MAX_ROSTER_AGE_ENV = "RXSTAFF_MAX_ROSTER_AGE_DAYS"
DEFAULT_MAX_ROSTER_AGE_DAYS = 10
RUN_LOCK_WAIT_ENV = "RXSTAFF_RUN_LOCK_WAIT"
RUN_TIMEOUT_ENV = "RXSTAFF_RUN_TIMEOUT"
LOCK_TIMEOUT_ENV = "RXSTAFF_LOCK_TIMEOUT"
SETTLE_ENV = "RXSTAFF_SETTLE_SECONDS"
GX_DIR_ENV = "RXSTAFF_GX_DIR"
GX_HOME_ENV = "RXSTAFF_GX_HOME"
VALIDATION_DOCS_ENV = "RXSTAFF_VALIDATION_DOCS"
READ_COPY_ENV = "RXSTAFF_READ_COPY"
AUDIT_COPY_ENV = "RXSTAFF_AUDIT_COPY"
REPORT_DIR_ENV = "RXSTAFF_REPORT_DIR"
BOUNDS_ENV = ("RXSTAFF_EARLIEST_DATE", "RXSTAFF_LATEST_DATE")
DASK_ENV = "RXSTAFF_DASK"
DASK_WORKERS_ENV = "RXSTAFF_DASK_WORKERS"
STAGING_AREA_ENV = "RXSTAFF_STAGING_AREA"
DUCKDB_MEMORY_ENV = "RXSTAFF_DUCKDB_MEMORY_LIMIT"
POSTGRES_WORK_MEM_ENV = "RXSTAFF_PG_WORK_MEM"
RETRY_PAUSE_ENV = "RXSTAFF_CONNECT_RETRY_PAUSE"
CREATE_WAREHOUSE_ENV = "RXSTAFF_CREATE_WAREHOUSE"  # allow (default) | never
BUDGET_WATCH_ENV = "RXSTAFF_BUDGET_WATCH_DAYS"  # "30" (default), "30,60,90" or "off"

# Engines that evaluate the suites (expectations/suite.py); auto picks by the run's size.
VALIDATION_CHOICES = ("auto", "gx", "sql", "vectorised")
DASK_CHOICES = ("auto", "off", "local")
# PostgreSQL memory per sort or hash of the run's own session: with the server's usual
# 4MB the roster history's grouping spills to disk (docs/decisions.md, work_mem).
POSTGRES_WORK_MEM_DEFAULT = "256MB"
_MEMORY = re.compile(r"[1-9][0-9]*(kB|MB|GB)")


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable."""


@dataclass(frozen=True)
class RunRequest:
    """What a run was asked for: the command's options or the flow's parameters (None:
    the environment's value, then the default)."""

    landing: str | None = None
    warehouse: str | None = None
    run_date: date | None = None
    min_group_size: int | None = None
    catalog: str | None = None
    paths: str | None = None
    validation: str = "auto"
    max_roster_age_days: int | None = None
    read_copy: str | None = None
    audit_copy: str | None = None
    report_dir: str | None = None
    dask: str | None = None
    staging_area: str | None = None
    rehash: bool = False


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs to know, resolved once (``resolve``)."""

    run_id: str
    landing: Path
    warehouse: Warehouse
    run_date: date
    id_secret: str = field(repr=False)  # in memory only: never a parameter, never stored
    job_catalog: Any = field(repr=False)  # a DataFrame, staged (transforms/catalog.py)
    career_paths: Any = field(repr=False)
    reference: Reference = field(repr=False)  # catalog codes, the id key, date bounds
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    max_roster_age_days: int = DEFAULT_MAX_ROSTER_AGE_DAYS
    validation: str = "auto"
    validation_project: Path | None = None  # GX results and Data Docs; None: not kept
    settle_seconds: float = 30
    run_lock_wait: float = 60
    read_copy: Path | None = None
    audit_copy: Path | None = None
    report_dir: Path | None = None
    dask: str = "auto"
    dask_workers: int = 1
    staging_area: str | None = None
    rehash: bool = False
    create_warehouse: bool = True  # False: a warehouse that is not there is an error
    budget_watch_days: tuple[int, ...] = (30,)  # () : no budget watch
    alerts: AlertSettings = field(default_factory=AlertSettings)  # where the watch is sent
    report: ReportOptions = field(default_factory=ReportOptions)  # the pack of report_dir

    @property
    def setup(self) -> Setup:
        """What the run applies to the warehouse before loading: key check, reference data."""
        from rxstaff.warehouse.transaction import Setup

        return Setup(
            self.id_secret,
            self.job_catalog,
            self.career_paths,
            self.min_group_size,
            self.create_warehouse,
        )


def resolve(
    request: RunRequest, in_deployment: bool = False, env: Mapping[str, str] = os.environ
) -> RunSettings:
    """The run's settings by precedence (request, environment, default), every one checked."""
    from rxstaff.extract.reference import read_career_paths, read_job_catalog
    from rxstaff.transforms.catalog import reference, stage_career_paths, stage_catalog

    if request.validation not in VALIDATION_CHOICES:
        raise ConfigurationError(
            f"validation must be one of {', '.join(VALIDATION_CHOICES)}, not {request.validation!r}"
        )
    target = warehouse(request.warehouse, env)
    if in_deployment and target.relative_file:
        raise ConfigurationError(
            f"{target.url} is relative: a deployment's run would put it in the worker's "
            "working folder (a temporary one, for a pulled deployment) and lose it. Set "
            f"${WAREHOUSE_ENV} to an absolute path, e.g. "
            "duckdb:////srv/rxstaff/warehouse.duckdb"
        )
    create = _create_warehouse(target, env)
    report_dir = _path(request.report_dir or env.get(REPORT_DIR_ENV))
    watch_days = budget_watch_days(env)
    secret = id_secret(env)
    job_catalog = stage_catalog(read_job_catalog(_reference_file("catalog", request.catalog, env)))
    career_paths = stage_career_paths(
        read_career_paths(_reference_file("paths", request.paths, env)), job_catalog
    )
    return RunSettings(
        run_id=f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        landing=Path(_landing(request.landing, env)),
        warehouse=target,
        run_date=request.run_date or date.today(),
        id_secret=secret,
        job_catalog=job_catalog,
        career_paths=career_paths,
        reference=reference(job_catalog, secret, _date_bounds(env)),
        min_group_size=_min_group_size(request.min_group_size, env),
        max_roster_age_days=_max_roster_age_days(request.max_roster_age_days, env),
        validation=request.validation,
        validation_project=validation_project(target, env),
        settle_seconds=_seconds(env, SETTLE_ENV, 30),
        run_lock_wait=_seconds(env, RUN_LOCK_WAIT_ENV, 60),
        read_copy=_path(request.read_copy or env.get(READ_COPY_ENV)),
        audit_copy=_path(request.audit_copy or env.get(AUDIT_COPY_ENV)),
        report_dir=report_dir,
        dask=_dask(request.dask, env),
        dask_workers=_dask_workers(env),
        staging_area=request.staging_area or env.get(STAGING_AREA_ENV) or None,
        rehash=request.rehash,
        create_warehouse=create,
        budget_watch_days=watch_days,
        alerts=alert_channels.configured(env=env) if watch_days else AlertSettings(),
        report=_report_options(env) if report_dir else ReportOptions(),
    )


def budget_watch_days(env: Mapping[str, str] = os.environ) -> tuple[int, ...]:
    """The waits (days since budget was requested) past which a seat is reported."""
    raw = env.get(BUDGET_WATCH_ENV, "30").strip().lower()
    if raw in ("off", "none", "0", ""):
        return ()
    parts = [p.strip() for p in raw.split(",")]
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ConfigurationError(
            f"${BUDGET_WATCH_ENV} must be whole numbers of days, e.g. 30 or 30,60,90, or off; "
            f"not {raw!r}"
        )
    return tuple(sorted({int(p) for p in parts}))


def _report_options(env: Mapping[str, str]) -> ReportOptions:
    try:
        return report_options(env)
    except ReportOptionError as problem:
        raise ConfigurationError(f"the staffing report: {problem}") from None


def warehouse(explicit: str | None = None, env: Mapping[str, str] = os.environ) -> Warehouse:
    """--warehouse, then $RXSTAFF_WAREHOUSE_URL, then the Prefect Secret block named in
    $RXSTAFF_WAREHOUSE_URL_BLOCK (for a URL that carries a password), then DuckDB; with
    the run's connection settings. Never shown with its password."""
    url = explicit or env.get(WAREHOUSE_ENV) or _secret_block(WAREHOUSE_BLOCK_ENV, env)
    try:
        target = Warehouse.at(url or DEFAULT_URL)
    except NotAWarehouseUrl as error:
        raise ConfigurationError(str(error)) from None
    if not target.is_postgres:
        return Warehouse.at(
            target.url,
            duckdb_memory_limit=env.get(DUCKDB_MEMORY_ENV, "2GB"),
            retry_pause=_seconds(env, RETRY_PAUSE_ENV, 2),
        )
    lock_timeout = int(_seconds(env, LOCK_TIMEOUT_ENV, 30))
    session = {"lock_timeout": f"{lock_timeout}s", **_postgres_session(env)}
    return Warehouse.at(
        target.url,
        session=tuple(session.items()),
        lock_timeout=lock_timeout,
        retry_pause=_seconds(env, RETRY_PAUSE_ENV, 2),
    )


def _create_warehouse(target: Warehouse, env: Mapping[str, str]) -> bool:
    """Whether a run may create the warehouse ($RXSTAFF_CREATE_WAREHOUSE: ``allow``, the
    default, or ``never``, for a schedule that must only ever load into an existing one). A
    DuckDB file that is not there is refused here, before a lock or folder is made; a
    PostgreSQL database without rxstaff's schema is refused by the run (nothing changed)."""
    choice = env.get(CREATE_WAREHOUSE_ENV, "allow").strip().lower()
    if choice not in ("allow", "never"):
        raise ConfigurationError(f"${CREATE_WAREHOUSE_ENV} must be allow or never, not {choice!r}")
    if choice == "never" and target.file is not None and not target.file.exists():
        raise ConfigurationError(
            f"there is no warehouse at {target.file}, and ${CREATE_WAREHOUSE_ENV}=never: "
            "this run may not create one (is the path mistyped?)"
        )
    return choice == "allow"


def id_secret(env: Mapping[str, str] = os.environ) -> str:
    """The pseudonymisation key: $RXSTAFF_ID_SECRET, or the Prefect Secret block named in
    $RXSTAFF_ID_SECRET_BLOCK. Never a flow parameter: Prefect records parameters."""
    secret = env.get(SECRET_ENV) or _secret_block(SECRET_BLOCK_ENV, env)
    if not secret:
        raise ConfigurationError(
            f"set {SECRET_ENV} (or {SECRET_BLOCK_ENV} to a Prefect Secret block) to the "
            "pseudonymisation key for employee ids; keep it out of the repository"
        )
    return secret


def validation_project(target: Warehouse, env: Mapping[str, str] = os.environ) -> Path | None:
    """Where a run keeps its Great Expectations results and Data Docs: $RXSTAFF_GX_DIR;
    else beside a DuckDB file (``<name>.gx/``); else $RXSTAFF_GX_HOME (default
    ~/.rxstaff/gx) / <host>_<database>. None when $RXSTAFF_VALIDATION_DOCS is ``off`` or
    the warehouse is in memory."""
    if env.get(VALIDATION_DOCS_ENV, "on").lower() in ("off", "0", "false", "no"):
        return None
    if env.get(GX_DIR_ENV):
        return Path(env[GX_DIR_ENV])
    if not target.is_postgres:
        if target.file is None:
            return None
        return target.file.with_name(target.file.stem + ".gx")
    return gx_home(env) / f"{target.url.host or 'local'}_{target.url.database}"


def gx_home(env: Mapping[str, str] = os.environ) -> Path:
    """Where PostgreSQL warehouses' validation projects live: $RXSTAFF_GX_HOME, default
    ~/.rxstaff/gx."""
    return Path(env.get(GX_HOME_ENV) or Path.home() / ".rxstaff" / "gx")


def run_timeout_seconds(env: Mapping[str, str] = os.environ) -> int:
    """How long a run may take before Prefect stops it (read when the flow is defined)."""
    raw = env.get(RUN_TIMEOUT_ENV)
    try:
        return int(raw) if raw else 6 * 3600
    except ValueError:
        raise ConfigurationError(f"${RUN_TIMEOUT_ENV} must be a whole number of seconds") from None


@contextmanager
def by_reference(url: str | None) -> Iterator[str | None]:
    """The warehouse as a flow parameter: Prefect records parameters (its database, its
    UI), so a URL carrying a password is handed over through this process's environment
    ($RXSTAFF_WAREHOUSE_URL) while the run lasts, and the parameter stays empty."""
    if url is None or not Warehouse.at(url).has_password:
        yield url
        return
    before = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = url
    try:
        yield None
    finally:
        if before is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = before


def _landing(explicit: str | None, env: Mapping[str, str]) -> str:
    """The landing folder: the parameter, then $RXSTAFF_LANDING (a worker's setting)."""
    found = explicit or env.get(LANDING_ENV)
    if not found:
        raise ConfigurationError(
            f"no landing folder: pass --landing (a deployment's `landing` parameter) or set "
            f"${LANDING_ENV}"
        )
    return found


def _secret_block(variable: str, env: Mapping[str, str]) -> str | None:
    name = env.get(variable)
    if not name:
        return None
    from prefect.blocks.system import Secret

    try:
        # Called from synchronous code, Block.load returns the block, not a coroutine.
        block = cast(Secret, Secret.load(name))
        return str(block.get())
    except ValueError as error:
        raise ConfigurationError(
            f"${variable} names Prefect Secret block {name!r}: {error}"
        ) from None


def _min_group_size(explicit: int | None, env: Mapping[str, str]) -> int:
    value = explicit if explicit is not None else _whole(env, MIN_GROUP_ENV, DEFAULT_MIN_GROUP_SIZE)
    if value < 1:
        raise ConfigurationError("the minimum survey group size must be at least 1")
    return value


def _reference_file(kind: str, explicit: str | None, env: Mapping[str, str]) -> Path | None:
    """--catalog / --paths, then $RXSTAFF_JOB_CATALOG / $RXSTAFF_CAREER_PATHS; None: shipped."""
    value = explicit or env.get(REFERENCE_ENV[kind])
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigurationError(f"{REFERENCE_ENV[kind]} or --{kind}: {path} is not a file")
    return path


def _max_roster_age_days(explicit: int | None, env: Mapping[str, str]) -> int:
    """How old the newest roster snapshot may be on the run date before the run fails."""
    if explicit is not None:
        value = explicit
    else:
        try:
            value = _whole(env, MAX_ROSTER_AGE_ENV, DEFAULT_MAX_ROSTER_AGE_DAYS)
        except ConfigurationError:
            raise ConfigurationError(
                f"${MAX_ROSTER_AGE_ENV} must be a whole number of days"
            ) from None
    if value < 0:
        raise ConfigurationError("the maximum roster age must be 0 days or more")
    return value


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        raise ConfigurationError(f"${name} must be a whole number") from None


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A duration setting: 0 seconds or more, the default when the variable is unset."""
    raw = env.get(name)
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        raise ConfigurationError(f"${name} must be a number of seconds") from None
    if value < 0:
        raise ConfigurationError(f"${name} must be 0 seconds or more")
    return value


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _date_bounds(env: Mapping[str, str]) -> tuple[date, date] | None:
    """The sanity bounds for dates in extracts ($RXSTAFF_EARLIEST_DATE, $RXSTAFF_LATEST_DATE;
    default 1950-01-01 .. 2099-12-31): a date outside them quarantines its row."""
    raw = [env.get(name) for name in BOUNDS_ENV]
    if not any(raw):
        return None
    try:
        earliest = date.fromisoformat(raw[0]) if raw[0] else date(1950, 1, 1)
        latest = date.fromisoformat(raw[1]) if raw[1] else date(2099, 12, 31)
    except ValueError:
        raise ConfigurationError(f"{' and '.join(BOUNDS_ENV)} take YYYY-MM-DD dates") from None
    if earliest >= latest:
        raise ConfigurationError(f"{BOUNDS_ENV[0]} must come before {BOUNDS_ENV[1]}")
    return earliest, latest


def _dask(given: str | None, env: Mapping[str, str]) -> str:
    """Where a history load's staging runs: ``auto`` (a local Dask cluster for a history
    load, in the run's process otherwise), ``off``, ``local`` (always a local cluster), or
    the address of a running ``dask.distributed`` scheduler (``tcp://host:8786``)."""
    value = (given or env.get(DASK_ENV) or "auto").strip()
    if value not in DASK_CHOICES and "://" not in value:
        raise ConfigurationError(
            f"dask must be one of {', '.join(DASK_CHOICES)} or a scheduler address such as "
            f"tcp://127.0.0.1:8786, not {value!r} (${DASK_ENV})"
        )
    return value


def _dask_workers(env: Mapping[str, str]) -> int:
    """Workers of a local Dask cluster: $RXSTAFF_DASK_WORKERS, or one per core."""
    value = env.get(DASK_WORKERS_ENV, "").strip()
    if not value:
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise ConfigurationError(f"${DASK_WORKERS_ENV} must be a whole number of 1 or more")
    return int(value)


def _postgres_session(env: Mapping[str, str]) -> dict[str, str]:
    """What a run's PostgreSQL session sets for itself (``set_config``), by name.

    JIT is off: compiling each large model or mart query cost more than it saved.
    ``work_mem`` is $RXSTAFF_PG_WORK_MEM (default 256MB), in PostgreSQL's units (kB, MB,
    GB), or ``server`` to leave it as the server sets it.
    """
    chosen = {"jit": "off"}
    value = env.get(POSTGRES_WORK_MEM_ENV, "").strip() or POSTGRES_WORK_MEM_DEFAULT
    if value.lower() != "server":
        if not _MEMORY.fullmatch(value):
            raise ConfigurationError(
                f"${POSTGRES_WORK_MEM_ENV} must be an amount such as 256MB or 1GB (kB, MB or "
                f"GB, no space), or 'server' for the server's own setting; not {value!r}"
            )
        chosen["work_mem"] = value
    return chosen
