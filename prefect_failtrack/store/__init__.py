"""The audit store: tables, engines and migrations, and the recorder that feeds them.

Its names are loaded on first use (PEP 562): the hooks import the recorder's front
(`recorder`, `encoding`, `spool`) in the pipeline's process, and SQLAlchemy, the models
and Alembic load later, in the recorder's writer thread or wherever they are asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .database import current_revision, ensure_schema, get_engine, upgrade
    from .location import resolve_database_url
    from .models import FailtrackModel, FlowRunSummary, Transition
    from .recorder import Recorder, get_recorder, reset_recorder

_WHERE = {
    "FailtrackModel": "models",
    "FlowRunSummary": "models",
    "Recorder": "recorder",
    "Transition": "models",
    "current_revision": "database",
    "ensure_schema": "database",
    "get_engine": "database",
    "get_recorder": "recorder",
    "reset_recorder": "recorder",
    "resolve_database_url": "location",
    "upgrade": "database",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__all__ = sorted(_WHERE)
