"""Built-in knowledge of the errors data engineers meet, as data; one module per family.

Each family module may define any of these tables (dotted names, never imports
of the libraries themselves):

- ``TYPES``: ``{"module.QualName": ErrorType}``, specific exception types;
- ``GENERIC_TYPES``: broad families that decide only when nothing in the chain
  is more specific (``OSError``, SQLAlchemy's ``DBAPIError`` wrappers);
- ``TYPE_MESSAGES``: ``{"module.QualName": [(regex, ErrorType, label)]}``,
  message patterns that only apply to that type (and its subclasses), for
  broad driver types whose message is the only clue;
- ``HTTP_STATUS``: ``{status or range: ErrorType}``;
- ``SQLSTATES``: ``{"08006" or "08": ErrorType}`` (exact code beats its class);
- ``CLOUD_CODES``: ``{"ThrottlingException": ErrorType}``;
- ``ERRNOS``: ``{errno.ECONNRESET: ErrorType}``;
- ``MESSAGES``: ``[(regex, ErrorType, label)]``, the last resort.

The tables of all families are merged, so that among type rules the most
specific type wins whichever family knows it.

Within the specific layer, one exception is asked in this order:

1. its cloud error code — a service's own code names the failure exactly
   (a ``ThrottlingException`` comes back with HTTP 400);
2. its SQLSTATE — likewise exact;
3. its type, the most specific listed class of its MRO, whose
   ``TYPE_MESSAGES`` are searched first — a listed type is more specific than
   the status it carries (google's ``AlreadyExists`` is HTTP 409 but no retry
   will help);
4. its HTTP status;
5. its errno.

Because listed types beat the status, a class whose meaning depends on its
status (``httpx.HTTPStatusError``, ``requests.HTTPError``, aiohttp's
``ClientResponseError``, ``urllib.error.HTTPError`` and their bases) must never
be in ``TYPES``, only in ``GENERIC_TYPES``: then the status decides first.
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


def _merged_lists(table: str) -> dict:
    merged: dict = {}
    for family in FAMILIES:
        for key, entries in getattr(family, table, {}).items():
            merged.setdefault(key, []).extend(entries)
    return merged


def _listed(table: str) -> list:
    return [entry for family in FAMILIES for entry in getattr(family, table, [])]


BUILTIN_SPECIFIC = RuleSet(
    [
        CloudCodeRule(_merged("CLOUD_CODES")),
        SqlstateRule(_merged("SQLSTATES")),
        TypeRule(_merged("TYPES"), messages=_merged_lists("TYPE_MESSAGES")),
        HttpStatusRule(_merged("HTTP_STATUS")),
        ErrnoRule(_merged("ERRNOS")),
    ]
)
BUILTIN_GENERIC = RuleSet([TypeRule(_merged("GENERIC_TYPES"))])
BUILTIN_MESSAGES = RuleSet([MessagePatterns(_listed("MESSAGES"))])

__all__ = ["BUILTIN_GENERIC", "BUILTIN_MESSAGES", "BUILTIN_SPECIFIC", "FAMILIES"]
