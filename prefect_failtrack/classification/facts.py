"""What an exception says about itself, read by shape for any library: its `Facts`.

Libraries already state much about their own errors; this module reads it without
importing them, and every reader survives whatever a hostile exception does:

- the HTTP status, under the names libraries use (``status_code``, ``status``,
  ``http_status``, ``code`` when it is an int in 100-599, ``response.status(_code)``,
  ``resp.status``, botocore's ``ResponseMetadata``);
- the SQLSTATE under any name (``sqlstate``, ``pgcode``, ``sql_state``, or pg8000's
  ``{'C': ...}`` dict in ``args``), ``errno`` on any exception, a gRPC status code
  wherever ``code()`` (or ``status``, ``grpc_status_code``) is a ``StatusCode``;
- reasons and error names (botocore's ``Error.Code``, Google's ``reason`` and
  ``errors[*].reason``, ``error_code``, ``error_name``, a ``code`` that is a name);
- the library's own verdict (``retryable``, ``is_retryable``, ``retriable()``,
  ``is_transient``, ``temporary``, ``isrecoverable``, a ``timeout`` flag, and error
  labels such as MongoDB's ``RetryableWriteError``) and the delay it asks for;
- a vendor code where a knowledge pack says where its library keeps one
  (`CodeSource`: MySQL error numbers, Kafka codes, ORA numbers...). A source claims
  the attributes it reads, so that the generic readers do not misread them (MongoDB's
  ``code`` 262 is no HTTP status).

The rules that judge facts are in `fact_rules`; the tables in `knowledge`. An
exception rebuilt from a stored row carries its facts (``failtrack_facts``), which
are then read as they are: a replay judges the same facts the first verdict did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from . import introspect, shapes
from .introspect import safe_getattr
from .paths import first_attribute, read_path

FACTS_ATTR = "failtrack_facts"

FACT_ATTRIBUTES = introspect.FACT_ATTRIBUTES
VERDICT_ATTRIBUTES = introspect.VERDICT_ATTRIBUTES
LABEL_ATTRIBUTES = introspect.LABEL_ATTRIBUTES
NAME_ATTRIBUTES = introspect.NAME_ATTRIBUTES

@dataclass(frozen=True, slots=True)
class CodeSource:
    """Where a library keeps its own code (data for knowledge packs; see `paths`).

    Attributes:
        space: whose codes these are, the key of a pack's ``CODES`` table (``"mysql"``);
            ``"sqlstate"``, ``"http"`` and ``"errno"`` fill those facts instead.
        code: path to the code on the exception, e.g. ``"args[0]"``.
        verdict: path to the library's own retryable flag, e.g. ``"args[0].retriable()"``.
        message: a regular expression searched in the message; its group 1 is the code.
        only_true: the verdict counts only when it says "retryable" (python-oracledb's
            ``isrecoverable`` is False for every error it does not know to be recoverable).
    """

    space: str
    code: str | None = None
    verdict: str | None = None
    message: str | None = None
    only_true: bool = False

    def claims(self) -> frozenset[str]:
        """The exception's attributes this source reads (kept from the generic readers)."""
        return frozenset(
            a for a in (first_attribute(p) for p in (self.code, self.verdict) if p) if a
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """The structured facts read from one exception; every field optional.

    Attributes:
        status: HTTP status.
        sqlstate: SQLSTATE (5 characters).
        errno: an ``errno`` value (``errno.ECONNRESET``...).
        grpc: a gRPC status code name (``"UNAVAILABLE"``).
        space: whose vendor code `code` is (``"mysql"``, ``"kafka"``...).
        code: the vendor's code (an int, or a name such as ``"ORA-12541"``).
        reasons: reasons and error names the error states (``"rateLimitExceeded"``).
        retryable: the library's own verdict, if it states one.
        verdict_from: the attribute that stated it (``"retriable()"``).
        timeout: the library says the error is a timeout.
        labels: error labels (MongoDB's ``RetryableWriteError``...).
        conflict: for HTTP 409, what the conflict is about: ``"exists"`` or ``"retry"``.
        retry_after: seconds the error asks to wait.
    """

    status: int | None = None
    sqlstate: str | None = None
    errno: int | None = None
    grpc: str | None = None
    space: str | None = None
    code: int | str | None = None
    reasons: tuple[str, ...] = ()
    retryable: bool | None = None
    verdict_from: str | None = None
    timeout: bool | None = None
    labels: tuple[str, ...] = ()
    conflict: str | None = None
    retry_after: float | None = None

    def __bool__(self) -> bool:
        return self != EMPTY

    def as_dict(self) -> dict[str, Any]:
        """The facts that are set, JSON-ready (tuples as lists)."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == ():
                continue
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_mapping(cls, value: Any) -> Facts | None:
        """Facts from `as_dict` output (a stored row); ``None`` for anything else. Never raises."""
        if isinstance(value, Facts):
            return value
        if not isinstance(value, Mapping):
            return None
        try:
            return cls(
                status=introspect.int_in(value.get("status"), 100, 599),
                sqlstate=shapes.as_sqlstate(value.get("sqlstate")),
                errno=introspect.int_in(value.get("errno"), 1, 4095),
                grpc=shapes.grpc_name(value.get("grpc")),
                space=shapes.short_text(value.get("space")),
                code=shapes.as_code(value.get("code")),
                reasons=shapes.texts(value.get("reasons")),
                retryable=shapes.as_bool(value.get("retryable")),
                verdict_from=shapes.short_text(value.get("verdict_from")),
                timeout=shapes.as_bool(value.get("timeout")),
                labels=shapes.texts(value.get("labels")),
                conflict=value.get("conflict") if value.get("conflict") in ("exists", "retry")
                else None,
                retry_after=introspect.as_delay(value.get("retry_after")),
            )
        except Exception:
            return None


EMPTY = Facts()

# ------------------------------------------------------------------ sources, per class

_sources: dict[str, tuple[CodeSource, ...]] = {}


def set_sources(sources: Mapping[str, Iterable[CodeSource]]) -> None:
    """The code sources of all packs, by dotted type name (the knowledge package sets them)."""
    _sources.clear()
    for name, listed in sources.items():
        _sources[name] = tuple(listed)
    sources_for.cache_clear()
    introspect.set_sourced(frozenset(_sources))


@lru_cache(maxsize=4096)
def sources_for(cls: type) -> tuple[CodeSource, ...]:
    """The code sources of a class: its own first, then its bases'."""
    found: list[CodeSource] = []
    for name in introspect.mro_names(cls):
        found.extend(_sources.get(name, ()))
    return tuple(found)


# ------------------------------------------------------------------------------ reading

#: What each reader looks at on the exception itself: it reads only when one is present.
STATUS_ATTRIBUTES = introspect.HTTP_STATUS_ATTRIBUTES
GRPC_ATTRIBUTES = frozenset({"code", "grpc_status_code", "status"})
REASON_ATTRIBUTES = frozenset({"response", "reason", "errors", "code", *NAME_ATTRIBUTES})
TIMEOUT_ATTRIBUTES = frozenset({"timeout", "is_timeout"})
#: The facts carried by a rebuilt exception, and the code sources of knowledge packs:
#: every fact rule reads those.
ALWAYS = frozenset({FACTS_ATTR, introspect.SOURCED})


def read_facts(exc: BaseException, wanted: frozenset[str] | None = None) -> Facts:
    """Everything `exc` itself says (not its chain); `EMPTY` when nothing. Never raises.

    Only readers whose attributes `exc` has (`introspect.present_attributes`) read; with
    `wanted`, only those among `wanted` too (a rule that needs only a status reads only that).
    """
    try:
        has = introspect.present_attributes(exc)
        if has is not None and has.isdisjoint(FACT_ATTRIBUTES) and not shapes.args_dict(exc):
            return EMPTY
        if wanted is not None:
            has = (has if has is not None else FACT_ATTRIBUTES) & wanted
        return _read(exc, has)
    except Exception:
        return EMPTY


def _read(exc: BaseException, has: frozenset[str] | None) -> Facts:
    def may(attrs: frozenset[str] | str) -> bool:
        if has is None:
            return True
        return attrs in has if isinstance(attrs, str) else not has.isdisjoint(attrs)

    def get(name: str) -> Any:  # only what is there (and wanted) is read
        return safe_getattr(exc, name) if has is None or name in has else None

    carried = Facts.from_mapping(get(FACTS_ATTR))
    if carried is not None:
        return carried
    found: dict[str, Any] = {}
    claimed: set[str] = set()
    if may(introspect.SOURCED):
        for source in sources_for(type(exc)):
            claimed |= source.claims()
            _read_source(exc, source, found)
    if "status" not in found and may(STATUS_ATTRIBUTES - claimed):
        status = introspect.http_status(exc, any_code="code" not in claimed, get=get)
        if status is not None:
            found["status"] = status
    if "sqlstate" not in found:
        state = introspect.sqlstate(exc, get) if may(introspect.SQLSTATE_ATTRIBUTES) else None
        if state is None:  # pg8000's shape: the server's error fields in args[0]
            state = shapes.as_sqlstate(shapes.mapping_value(shapes.args_dict(exc), "C"))
        if state:
            found["sqlstate"] = state
    if "errno" not in found and "errno" not in claimed and may("errno"):
        number = shapes.errno_of(exc, get)
        if number is not None:
            found["errno"] = number
    if "code" not in claimed and may(GRPC_ATTRIBUTES):
        name = shapes.grpc_code(exc, get)
        if name is not None:
            found["grpc"] = name
    if may(REASON_ATTRIBUTES):
        reasons = shapes.reasons(get, claimed)
        if reasons:
            found["reasons"] = tuple(dict.fromkeys((*found.get("reasons", ()), *reasons)))
    if "retryable" not in found and may(frozenset(VERDICT_ATTRIBUTES) - claimed):
        verdict = shapes.verdict(get, claimed)
        if verdict is not None:
            found["retryable"], found["verdict_from"] = verdict
    if may(frozenset(LABEL_ATTRIBUTES)):
        labels = shapes.labels(get)
        if labels:
            found["labels"] = labels
    for attr in TIMEOUT_ATTRIBUTES:
        if may(attr) and shapes.as_bool(shapes.called(get(attr))) is True:
            found["timeout"] = True
    if may(introspect.DELAY_ATTRIBUTES):
        delay = introspect.requested_delay(exc, get)
        if delay is not None:
            found["retry_after"] = delay
    if found.get("status") == 409:
        found["conflict"] = shapes.conflict(exc, found.get("reasons", ()), get)
    return Facts(**found) if found else EMPTY


def _read_source(exc: BaseException, source: CodeSource, found: dict[str, Any]) -> None:
    value: Any = None
    if source.code:
        value = read_path(exc, source.code)
    if value is None and source.message:
        match = shapes.search(source.message, introspect.safe_message(exc))
        value = match
    code = shapes.as_code(value)
    if code is not None:
        if source.space == "sqlstate":
            state = shapes.as_sqlstate(code)
            if state and "sqlstate" not in found:
                found["sqlstate"] = state
        elif source.space == "http":
            status = introspect.int_in(code, 100, 599)
            if status is not None and "status" not in found:
                found["status"] = status
        elif source.space == "errno":
            number = introspect.int_in(code, 1, 4095)
            if number is not None and "errno" not in found:
                found["errno"] = number
        elif "code" not in found:
            found["space"], found["code"] = source.space, code
    if source.verdict and "retryable" not in found:
        verdict = shapes.as_bool(read_path(exc, source.verdict))
        if verdict is not None and (verdict or not source.only_true):
            found["retryable"], found["verdict_from"] = verdict, source.verdict


