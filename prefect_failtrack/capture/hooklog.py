"""Prefect's two INFO lines around each of failtrack's hook calls, left out of the logs.

Prefect 3.8 logs, for every hook on every transition (``task_engine.call_hooks``,
``flow_engine.call_hooks``), ``Running hook 'NAME' in response to entering state
'S'`` and ``Hook 'NAME' finished running successfully`` at INFO on the run's logger.
A tracked task that succeeds has two hook calls, so four such lines, each formatted
for the console and sent to the API: measured, they cost more than everything
failtrack itself does in the hooks (``docs/performance.md``).

failtrack's hooks are bookkeeping; what they decide, they log themselves. So a
`logging.Filter` on Prefect's run loggers (the supported way to drop records,
see Prefect's ``logging.yml``) drops those two lines for failtrack's own hooks
only, which carry distinctive names (`HOOK_PREFIX`). Your own hooks' lines stay,
and so does Prefect's ERROR line when a hook fails. Set
``PREFECT_INTEGRATIONS_FAILTRACK_QUIET_HOOKS=false`` to keep every line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

HOOK_PREFIX = "failtrack_"
LOGGERS = ("prefect.task_runs", "prefect.flow_runs", "prefect.engine")
_LINE = re.compile(
    rf"(?:Running hook|Hook) '{HOOK_PREFIX}\w+' "
    r"(?:in response to entering state |finished running successfully)"
)


class QuietFailtrackHooks(logging.Filter):
    """Drops the INFO lines Prefect writes around a call of one of failtrack's hooks."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        message = record.msg
        if not isinstance(message, str):
            return True
        if HOOK_PREFIX not in message:
            # The runner formats with arguments: "Running hook %r in response to entering
            # state %r" (prefect/runner/_hook_runner.py); the engines with f-strings.
            if not record.args or "hook" not in message.lower():
                return True
            message = record.getMessage()
        return not (HOOK_PREFIX in message and _LINE.match(message))


def quiet_hook_lines() -> None:
    """Put the filter on Prefect's run loggers (once; later calls do nothing)."""
    for name in LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, QuietFailtrackHooks) for f in target.filters):
            target.addFilter(QuietFailtrackHooks())


def named_hook(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`method` as a plain function called ``failtrack_<name>``: the name Prefect logs.

    It takes what Prefect passes, positionally (the engines: ``hook(flow, flow_run,
    state)``) or by keyword (the runner, for runs it cancels or finds crashed:
    ``hook(flow=..., flow_run=..., state=...)``, ``prefect/runner/_hook_runner.py``).
    """

    def hook(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    hook.__name__ = hook.__qualname__ = f"{HOOK_PREFIX}{name}"
    hook.__doc__ = method.__doc__
    return hook
