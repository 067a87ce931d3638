"""A step of the run: a Prefect task run inside a flow run, a plain call outside one.

``rxstaff nightly`` without a Prefect server (no ``PREFECT_API_URL``) runs the flow's
steps as plain calls: no temporary server is started, and the run's record is its
``etl_run`` row and the console. Under a worker, or with a server configured, each
step is a task run of the ``nightly`` flow run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect import Task, get_run_logger
from prefect.context import FlowRunContext
from prefect.utilities.annotations import quote

P = ParamSpec("P")
R = TypeVar("R")
Logger = logging.Logger | logging.LoggerAdapter[Any]


def in_flow_run() -> bool:
    return FlowRunContext.get() is not None


def step(task: Task[P, R]) -> Callable[..., R]:
    """Call ``task`` as a task run inside a flow run, else as the plain function.

    Prefect visits every parameter of a task run, element by element, looking for
    futures; a run's context and staged chunks hold thousands of files and never a future.
    ``quote`` is Prefect's documented way to skip that walk (the task receives the value
    itself), so every argument is quoted.
    """
    if not in_flow_run():
        return _retried(task) if task.retries else task.fn

    def run(*args: Any, **kwargs: Any) -> R:
        quoted = {name: quote(value) for name, value in kwargs.items()}
        return cast(R, task(*(quote(a) for a in args), **quoted))

    return run


def _retried(task: Task[P, R]) -> Callable[..., R]:
    """The plain function with the task's retries, for the errors its condition retries."""
    retryable = getattr(task.retry_condition_fn, "retryable", lambda error: True)
    delay = task.retry_delay_seconds if isinstance(task.retry_delay_seconds, int | float) else 0

    def run(*args: Any, **kwargs: Any) -> R:
        for attempt in range(int(task.retries or 0) + 1):
            try:
                return task.fn(*args, **kwargs)
            except Exception as error:
                if attempt == task.retries or not retryable(error):
                    raise
                run_logger().warning(f"{task.name} failed ({error}); retrying in {delay:g} s")
                time.sleep(float(delay))
        raise AssertionError("unreachable")

    return run


def run_logger() -> Logger:
    """The flow run's logger under Prefect; ``rxstaff.run`` on the console otherwise."""
    if in_flow_run():
        return get_run_logger()
    return logging.getLogger("rxstaff.run")


def retry_condition(retryable: Callable[[BaseException], bool]) -> Callable[..., bool]:
    """Prefect's ``retry_condition_fn`` asking ``retryable`` of the failed run's error."""

    def condition(task: object, task_run: object, state: Any) -> bool:
        try:
            state.result()
        except Exception as error:
            return retryable(error)
        return False

    condition.retryable = retryable  # type: ignore[attr-defined]  # for plain calls
    return condition
