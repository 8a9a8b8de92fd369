"""Built-in knowledge of the errors data engineers meet, as data; one module per family.

A *knowledge pack* is a module (or any object) defining some of these tables, with
dotted names, never imports of the libraries themselves; each cites its source:

- ``CODE_SOURCES``: ``{"module.QualName": [CodeSource(space, code=path, verdict=path,
  message=regex)]}``, where a library keeps its own code (`facts.CodeSource`);
- ``CODES``: ``{space: {code or range: ErrorType}}``, what those codes mean;
- ``CLOUD_CODES``: ``{"ThrottlingException": ErrorType}``, codes and reasons a service
  names (botocore ``Error.Code``, Google reasons, ``errors[*].reason``, ``error_code``);
- ``SQLSTATES``: ``{"08006" or "08": ErrorType}`` (exact code beats its class);
- ``TYPES``: ``{"module.QualName": ErrorType}``, specific exception types;
- ``TYPE_MESSAGES``: ``{"module.QualName": [(regex, ErrorType, label)]}``, message
  patterns that only apply to that type (and its subclasses);
- ``HTTP_STATUS``, ``GRPC_CODES``, ``NAMES``, ``ERRNOS``, ``LABELS``, ``CONFLICT``: the
  generic layer's tables (see `generic` and `fact_rules.MetadataRule`);
- ``GENERIC_TYPES``: broad families that decide only when nothing in the chain is
  more specific (``OSError``, SQLAlchemy's ``DBAPIError`` wrappers, status carriers);
- ``TYPE_NAMES``: ``[(regex, ErrorType, label)]`` searched in the names of a library's
  classes (``ConnectionTimeout``), for errors no table knows: after the generic library
  types, before the generic builtin a library's class subclasses (jinja2's
  ``TemplateNotFound`` is an ``OSError``, but it says what it is);
- ``MESSAGES``: ``[(regex, ErrorType, label)]``, the last resort.

The tables of all packs are merged (a later pack overrides an earlier one's keys), so
among type rules the most specific type wins whichever pack knows it. Packs from other
packages come in through the ``prefect_failtrack.knowledge`` entry point group
(`plugins`), after the built-in ones, on the first classification.

One exception (one link of a chain) is asked, in the specific layer, in this order:

1. its vendor code (``CODES``) — a library's own code names the failure exactly;
2. the codes and reasons a service names (``CLOUD_CODES``: a ``ThrottlingException``
   comes back with HTTP 400);
3. its SQLSTATE — likewise exact;
4. its type, the most specific listed library class of its MRO, whose
   ``TYPE_MESSAGES`` are searched first — a listed type is more specific than the
   status it carries (google's ``AlreadyExists`` is HTTP 409 but no retry will help);
5. the generic layer: what the error states about itself by shape (names, HTTP
   status, gRPC code, errno, the library's own retryable verdict and labels);
6. the Python builtin its class subclasses (``ValueError``, ``ConnectionError``) —
   after the generic layer, so that a library's own word beats its base class. For an
   exception whose class *is* a builtin, the builtin type is asked at step 4.

Because listed types beat the status and the library's verdict, a class whose meaning
depends on them (``httpx.HTTPStatusError``, ``requests.HTTPError``, google-auth's
``RefreshError`` and its ``retryable``) must never be in ``TYPES``, only in
``GENERIC_TYPES``: then the status or verdict decides first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .. import facts
from ..fact_rules import CodeRule, MetadataRule
from ..rules import (
    CloudCodeRule,
    MessagePatterns,
    RuleSet,
    SqlstateRule,
    TypeNameRule,
    TypeRule,
)
from . import (
    amqp,
    arrow,
    aws,
    azure,
    clickhouse,
    docker,
    duckdb,
    generic,
    google,
    http,
    kafka,
    kubernetes,
    messages,
    mongodb,
    mysql,
    nats,
    oracle,
    postgres,
    prefect,
    python,
    redis,
    snowflake,
    sqlalchemy,
    ssh,
    stdlib_net,
    tenacity,
    trino,
    validation,
)

FAMILIES: tuple[ModuleType, ...] = (
    python, stdlib_net, http, generic, postgres, mysql, sqlalchemy, mongodb, kafka, oracle,
    clickhouse, trino, snowflake, duckdb, arrow, aws, google, azure, kubernetes, docker, redis,
    amqp, nats, ssh, tenacity, validation, prefect, messages,
)
"""The built-in packs, in merge order."""

TABLES = (
    "CODE_SOURCES", "CODES", "CLOUD_CODES", "SQLSTATES", "TYPES", "TYPE_MESSAGES",
    "HTTP_STATUS", "GRPC_CODES", "NAMES", "ERRNOS", "LABELS", "CONFLICT", "GENERIC_TYPES",
    "TYPE_NAMES", "MESSAGES",
)
"""Every table a pack may define."""


def _merged(packs: Iterable[Any], table: str) -> dict:
    merged: dict = {}
    for pack in packs:
        merged.update(getattr(pack, table, None) or {})
    return merged


def _merged_lists(packs: Iterable[Any], table: str) -> dict:
    merged: dict = {}
    for pack in packs:
        for key, entries in (getattr(pack, table, None) or {}).items():
            merged.setdefault(key, []).extend(entries)
    return merged


def _merged_codes(packs: Iterable[Any]) -> dict:
    merged: dict = {}
    for pack in packs:
        for space, table in (getattr(pack, "CODES", None) or {}).items():
            merged.setdefault(space, {}).update(table)
    return merged


def _listed(table: str, packs: Iterable[Any] = FAMILIES) -> list:
    return [entry for pack in packs for entry in (getattr(pack, table, None) or [])]


@dataclass(frozen=True)
class Layers:
    """The built-in rules, in the layers the engine asks them (see the module docstring)."""

    specific: RuleSet
    generic: RuleSet
    messages: RuleSet
    sources: dict


def build(packs: Iterable[Any]) -> Layers:
    """The layers made of `packs`' tables; raises on tables that are not well formed."""
    packs = tuple(packs)
    types = _merged(packs, "TYPES")
    type_messages = _merged_lists(packs, "TYPE_MESSAGES")
    sources = _merged_lists(packs, "CODE_SOURCES")
    for name, listed in sources.items():
        for source in listed:
            if not isinstance(source, facts.CodeSource):
                raise TypeError(f"CODE_SOURCES[{name!r}] holds {source!r}, not a CodeSource")
            source.claims()  # the paths parse
    specific = RuleSet([
        CodeRule(_merged_codes(packs)),
        CloudCodeRule(_merged(packs, "CLOUD_CODES")),
        SqlstateRule(_merged(packs, "SQLSTATES")),
        TypeRule(types, messages=type_messages, scope="library"),
        MetadataRule(
            status=_merged(packs, "HTTP_STATUS"),
            grpc=_merged(packs, "GRPC_CODES"),
            names=_merged(packs, "NAMES"),
            errnos=_merged(packs, "ERRNOS"),
            labels=_merged(packs, "LABELS"),
            conflict=_merged(packs, "CONFLICT"),
        ),
        TypeRule(types, scope="bases"),
    ])
    return Layers(
        specific=specific,
        generic=RuleSet([
            TypeRule(_merged(packs, "GENERIC_TYPES"), scope="library"),
            TypeNameRule(_listed("TYPE_NAMES", packs)),
            TypeRule(_merged(packs, "GENERIC_TYPES"), scope="bases"),
        ]),
        messages=RuleSet([MessagePatterns(_listed("MESSAGES", packs))]),
        sources=sources,
    )


BUILTIN = build(FAMILIES)
BUILTIN_SPECIFIC = BUILTIN.specific
BUILTIN_GENERIC = BUILTIN.generic
BUILTIN_MESSAGES = BUILTIN.messages
facts.set_sources(BUILTIN.sources)

_active: Layers | None = None


def layers() -> Layers:
    """The layers in use: the built-in packs and, loaded once, those of other packages."""
    global _active
    if _active is None:
        from .. import plugins

        _active = plugins.with_packs(FAMILIES, build, BUILTIN)
        facts.set_sources(_active.sources)
    return _active


def reload() -> Layers:
    """Forget the layers in use (and the packs loaded): the next classification loads them."""
    global _active
    _active = None
    from .. import plugins

    plugins.forget()
    return layers()


__all__ = [
    "BUILTIN",
    "BUILTIN_GENERIC",
    "BUILTIN_MESSAGES",
    "BUILTIN_SPECIFIC",
    "FAMILIES",
    "TABLES",
    "Layers",
    "build",
    "layers",
    "reload",
]
