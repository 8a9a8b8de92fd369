"""The audit store: tables, engines and migrations, and the recorder that feeds them."""

from .database import (
    current_revision,
    ensure_schema,
    get_engine,
    resolve_database_url,
    upgrade,
)
from .models import FailtrackModel, FlowRunSummary, Transition
from .recorder import Recorder, get_recorder, reset_recorder

__all__ = [
    "FailtrackModel",
    "FlowRunSummary",
    "Recorder",
    "Transition",
    "current_revision",
    "ensure_schema",
    "get_engine",
    "get_recorder",
    "reset_recorder",
    "resolve_database_url",
    "upgrade",
]
