"""Finding the configuration block, and putting its rules and patterns to work.

`load_config` is what failtrack itself calls (for the audit database URL,
through `prefect_failtrack.store.database.url_from_block`): it must never
slow or break a pipeline, so it

- only asks when a Prefect API is configured (``PREFECT_API_URL``): without
  one, Prefect's client would start an ephemeral server just to answer
  (``prefect/client/orchestration/__init__.py``, ``get_client``), which is not
  worth a configuration lookup;
- asks at most once per process, API and block name, and remembers the
  answer, a missing block included (`forget_configs` makes it ask again);
- waits at most `LOOKUP_TIMEOUT_S` seconds, and answers ``None`` on any error
  (no block type registered, no such document, an unreachable API, a document
  that no longer validates), logging it at debug level.

Users who want the block's rules and redaction patterns call `apply_config`
(or ``FailtrackConfig.load(name).apply()``) once, when their flows' module is
imported; nothing applies them behind their back, since rows already written
would have been classified and redacted without them.
"""

from __future__ import annotations

import contextvars
import threading
from typing import TYPE_CHECKING

from prefect.logging import get_logger
from prefect.settings import get_current_settings

from .classification import add_rules
from .redaction import add_patterns
from .settings import get_settings

if TYPE_CHECKING:
    from .blocks import FailtrackConfig

logger = get_logger("prefect_failtrack.config")

LOOKUP_TIMEOUT_S = 5.0

_cache: dict[tuple[str, str], FailtrackConfig | None] = {}
_cache_lock = threading.Lock()
_applied: set[str] = set()


def api_configured() -> bool:
    """Whether a Prefect API (a server or Prefect Cloud) is configured: ``PREFECT_API_URL``."""
    return bool(get_current_settings().api.url)


def load_config(name: str | None = None) -> FailtrackConfig | None:
    """The `FailtrackConfig` document `name` (default: the ``config_block`` setting), or ``None``.

    Silent and bounded (see the module's documentation); never raises.
    """
    try:
        name = name or get_settings().config_block
        if not api_configured():
            return None
        key = (str(get_current_settings().api.url), name)
        with _cache_lock:
            if key not in _cache:
                _cache[key] = _lookup(name)
            return _cache[key]
    except Exception as error:
        logger.debug("failtrack: no configuration block (%s: %s)", type(error).__name__, error)
        return None


def forget_configs() -> None:
    """Forget the configuration documents looked up so far; the next call asks the API again."""
    with _cache_lock:
        _cache.clear()


def _lookup(name: str) -> FailtrackConfig | None:
    from .blocks import FailtrackConfig

    found: list[FailtrackConfig | None] = [None]

    def load() -> None:
        try:
            # `_sync=True`: `Block.load` is wrapped in `async_dispatch` and would hand back a
            # coroutine when an event loop runs in the caller's thread (prefect/blocks/core.py).
            found[0] = FailtrackConfig.load(name, _sync=True)  # type: ignore[call-arg]
        except Exception as error:
            logger.debug(
                "failtrack: no FailtrackConfig %r (%s: %s)", name, type(error).__name__, error
            )

    # A thread of its own bounds the wait; it sees the caller's settings (copied context).
    context = contextvars.copy_context()
    worker = threading.Thread(
        target=context.run, args=(load,), name="failtrack-config-lookup", daemon=True
    )
    worker.start()
    worker.join(LOOKUP_TIMEOUT_S)
    if worker.is_alive():
        logger.warning(
            "failtrack: the Prefect API did not answer within %.0f s for the FailtrackConfig "
            "%r; going on without it.", LOOKUP_TIMEOUT_S, name,
        )
        return None
    return found[0]


def config_database_url(name: str | None = None) -> str | None:
    """The audit database URL of the configuration block, when there is one and it sets one."""
    config = load_config(name)
    if config is None or config.database_url is None:
        return None
    return config.database_url.get_secret_value() or None


def apply_config(config: FailtrackConfig) -> None:
    """Add a configuration's rules and redaction patterns to this process.

    Rules go ahead of the built-in ones for every classification (`add_rules`),
    patterns join the redactor's (`prefect_failtrack.redaction.add_patterns`).
    Applying the same rules and patterns twice changes nothing; applying two
    different configurations adds both. The retry policy is not applied: pass
    ``config.policy()`` to the decorators.
    """
    key = config.model_dump_json(include={"rules", "redaction_patterns"})
    if key in _applied:
        return
    add_patterns(*config.redaction_patterns)
    if config.rules:
        add_rules(config.classification_rules())
    _applied.add(key)


__all__ = [
    "LOOKUP_TIMEOUT_S",
    "api_configured",
    "apply_config",
    "config_database_url",
    "forget_configs",
    "load_config",
]
