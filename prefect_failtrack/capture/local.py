"""The tracked flow runs running in this process, and the parent of a subflow.

A task run's flow run is *local* when the flow's own engine runs in this process; a
task run handed to another process (Prefect's process pool, Dask, Ray) finds its flow
run context there rebuilt from a serialized copy, marked ``detached``
(``prefect/context.py``, ``hydrated_context``): such a process may be torn down right
after the task, so its rows are flushed at the end of each task run (`TaskHooks`).

A subflow's parent is the tracked flow run whose code called it: tracked flow runs
are pushed on a context-local stack when they start running and popped when they
end (a subflow runs in its caller's context, thread or event loop task). A subflow
called from a flow that failtrack does not track finds no parent here: its parent is
then read from Prefect's API, off the pipeline's thread (`parent_from_api`).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any

from prefect.context import FlowRunContext

_running: ContextVar[tuple[str, ...]] = ContextVar("failtrack_flow_runs", default=())
_here: set[str] = set()  # flow runs started in this process and not ended yet
_lock = threading.Lock()


def started(flow_run_id: str) -> str | None:
    """Note that a tracked flow run is running here; its tracked parent, if it is a subflow
    and its caller is tracked in this context."""
    stack = _running.get()
    with _lock:
        _here.add(flow_run_id)
    if flow_run_id in stack:  # a retry of the same flow run: already there
        return stack[stack.index(flow_run_id) - 1] if stack.index(flow_run_id) else None
    _running.set((*stack, flow_run_id))
    return stack[-1] if stack else None


def ended(flow_run_id: str) -> None:
    with _lock:
        _here.discard(flow_run_id)
    stack = _running.get()
    if flow_run_id in stack:
        _running.set(tuple(run for run in stack if run != flow_run_id))


def running_here() -> set[str]:
    """The tracked flow runs running in this process now (heartbeats, liveness)."""
    with _lock:
        return set(_here)


def in_detached_process() -> bool:
    """Whether the current task runs away from its flow's engine (a worker process)."""
    context = FlowRunContext.get()
    return bool(context is not None and context.detached)


def parent_from_api(parent_task_run_id: Any) -> str | None:
    """The flow run a subflow's parent task run belongs to, read from Prefect's API (the
    task run that stands for a subflow is created through the API, ``flow_engine.py``,
    ``create_flow_run``); ``None`` when it cannot be read."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            flow_run_id = client.read_task_run(parent_task_run_id).flow_run_id
    except Exception:
        return None
    return str(flow_run_id) if flow_run_id else None
