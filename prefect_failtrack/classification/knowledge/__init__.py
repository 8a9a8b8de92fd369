"""Built-in knowledge of the errors data engineers meet, as data; one module per family.

Each family module may define any of these tables (dotted names, never imports
of the libraries themselves):

- ``TYPES``: ``{"module.QualName": ErrorType}``, specific exception types;
- ``GENERIC_TYPES``: broad families that decide only when nothing in the chain
  is more specific (``OSError``, SQLAlchemy's ``DBAPIError`` wrappers);
- ``HTTP_STATUS``: ``{status or range: ErrorType}``;
- ``SQLSTATES``: ``{"08006" or "08": ErrorType}`` (exact code beats its class);
- ``CLOUD_CODES``: ``{"ThrottlingException": ErrorType}``;
- ``ERRNOS``: ``{errno.ECONNRESET: ErrorType}``;
- ``MESSAGES``: ``[(regex, ErrorType, label)]``, the last resort.

The tables of all families are merged, so that among type rules the most
specific type wins whichever family knows it.
"""

from __future__ import annotations

from types import ModuleType

from ..rules import (
    CloudCodeRule,
    ErrnoRule,
    HttpStatusRule,
    MessagePatterns,
    RuleSet,
    SqlstateRule,
    TypeRule,
)
from . import aws, google, http, messages, postgres, prefect, python, redis, sqlalchemy, validation

FAMILIES: tuple[ModuleType, ...] = (
    python, http, postgres, sqlalchemy, aws, google, redis, validation, prefect, messages,
)


def _merged(table: str) -> dict:
    merged: dict = {}
    for family in FAMILIES:
        merged.update(getattr(family, table, {}))
    return merged


def _listed(table: str) -> list:
    return [entry for family in FAMILIES for entry in getattr(family, table, [])]


BUILTIN_SPECIFIC = RuleSet(
    [
        HttpStatusRule(_merged("HTTP_STATUS")),
        SqlstateRule(_merged("SQLSTATES")),
        CloudCodeRule(_merged("CLOUD_CODES")),
        TypeRule(_merged("TYPES")),
        ErrnoRule(_merged("ERRNOS")),
    ]
)
BUILTIN_GENERIC = RuleSet([TypeRule(_merged("GENERIC_TYPES"))])
BUILTIN_MESSAGES = RuleSet([MessagePatterns(_listed("MESSAGES"))])

__all__ = ["BUILTIN_GENERIC", "BUILTIN_MESSAGES", "BUILTIN_SPECIFIC", "FAMILIES"]
