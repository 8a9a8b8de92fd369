"""Knowledge packs from other packages: the ``prefect_failtrack.knowledge`` entry point group.

A package ships a pack by naming a module (or any object with the tables of
`knowledge`) in its metadata::

    [project.entry-points."prefect_failtrack.knowledge"]
    acme = "acme_failtrack.knowledge"

Packs are loaded once, on the first classification (never at import), after the
built-in ones: their tables override the built-in keys they repeat. A pack that does
not load, or whose tables are not well formed, is reported once (a warning on this
module's logger) and skipped; the others still count, and nothing raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

GROUP = "prefect_failtrack.knowledge"

L = TypeVar("L")

_loaded: list[tuple[str, Any]] | None = None
_reported: set[str] = set()


def discover() -> list[tuple[str, Any]]:
    """``(name, pack)`` of every pack that loads, in entry point name order; once per process."""
    global _loaded
    if _loaded is None:
        _loaded = []
        try:
            found = sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))
        except Exception as error:
            _report("*", f"cannot list the entry points: {error!r}")
            found = []
        for point in found:
            try:
                _loaded.append((point.name, point.load()))
            except Exception as error:  # ImportError, SyntaxError, anything the module raises
                _report(point.name, f"does not load ({point.value}): {error!r}")
    return _loaded


def with_packs(builtin: Iterable[Any], build: Callable[[Iterable[Any]], L], fallback: L) -> L:
    """Layers `build` makes of the built-in packs and the packs that load and are well formed.

    Each outside pack is first built alone with the built-ins: one that does not build is
    reported and left out. Never raises: at worst, `fallback` (the built-in layers).
    """
    builtin = tuple(builtin)
    good: list[Any] = []
    try:
        for name, pack in discover():
            try:
                build((*builtin, pack))
            except Exception as error:
                _report(name, f"has tables failtrack cannot use: {error!r}")
                continue
            good.append(pack)
        return build((*builtin, *good)) if good else fallback
    except Exception as error:  # a pack that misbehaves only once all are together
        _report("*", f"knowledge packs left out: {error!r}")
        return fallback


def loaded_names() -> list[str]:
    """Names of the outside packs that loaded (whether or not their tables were usable)."""
    return [name for name, _ in (_loaded or [])]


def forget() -> None:
    """Load the packs again on the next classification (tests; a long-lived process)."""
    global _loaded
    _loaded = None
    _reported.clear()


def _report(name: str, problem: str) -> None:
    if name in _reported:
        return
    _reported.add(name)
    logger.warning("failtrack knowledge pack %r %s; skipping it", name, problem)
