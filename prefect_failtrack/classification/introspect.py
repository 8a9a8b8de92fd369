"""Safe, import-free reading of exceptions: names, messages, chains, HTTP status, SQLSTATE.

Nothing here imports the libraries it reads: everything goes through attributes,
and every accessor swallows whatever a hostile exception raises.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .types import RETRY_AFTER_ATTR

MAX_CHAIN = 32
MESSAGE_LIMIT = 4096


@lru_cache(maxsize=4096)
def qualified_name(cls: type) -> str:
    """``module.QualName`` of a class, e.g. ``httpx.ConnectTimeout``."""
    module = getattr(cls, "__module__", None) or "?"
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
    return name if module == "builtins" else f"{module}.{name}"


def mro_names(cls: type) -> tuple[str, ...]:
    """Qualified names of a class and its bases, most specific first."""
    return _mro_names(cls)


@lru_cache(maxsize=4096)
def _mro_names(cls: type) -> tuple[str, ...]:
    try:
        mro = cls.__mro__
    except Exception:  # a metaclass that lies
        mro = (cls,)
    return tuple(qualified_name(c) for c in mro)


def safe_message(exc: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """``str(exc)`` cut to `limit` characters; never raises, even if ``__str__`` does."""
    for render in (str, repr):
        try:
            text = render(exc)
            if isinstance(text, str):
                return text[:limit]
        except Exception:
            continue
    try:
        return f"<unprintable {qualified_name(type(exc))}>"
    except Exception:
        return "<unprintable exception>"


def safe_getattr(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)`` that also survives properties that raise."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def iter_chain(exc: BaseException, limit: int = MAX_CHAIN) -> Iterator[BaseException]:
    """The exception, then what it wraps, depth first, each once, at most `limit`.

    Explicit inner errors come before the implicit context: a library's own
    wrapper attribute (SQLAlchemy's ``orig``, urllib3's ``reason``), then
    ``__cause__``, then ``__context__`` unless it was suppressed.
    """
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < limit:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner: list[BaseException] = []
        for attr in ("orig", "reason", "__cause__"):
            candidate = safe_getattr(current, attr)
            if isinstance(candidate, BaseException):
                inner.append(candidate)
        context = safe_getattr(current, "__context__")
        if isinstance(context, BaseException) and not safe_getattr(
            current, "__suppress_context__"
        ):
            inner.append(context)
        stack.extend(reversed(inner))


def group_members(exc: BaseException) -> tuple[BaseException, ...]:
    """Members of an exception group (``()`` for anything else)."""
    if isinstance(exc, BaseExceptionGroup):
        members = safe_getattr(exc, "exceptions")
        if isinstance(members, tuple):
            return tuple(m for m in members if isinstance(m, BaseException))
    return ()


def _int_in(value: Any, low: int, high: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _mapping_get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        try:
            obj = obj.get(key)
        except Exception:
            return None
    return obj


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries, from any of the common client shapes."""
    response = safe_getattr(exc, "response")
    if response is not None:
        if isinstance(response, Mapping):  # botocore ClientError.response
            return _int_in(_mapping_get(response, "ResponseMetadata", "HTTPStatusCode"), 100, 599)
        for attr in ("status_code", "status"):
            status = _int_in(safe_getattr(response, attr), 100, 599)
            if status is not None:
                return status
    for attr in ("status", "status_code"):  # aiohttp ClientResponseError, SDK errors
        status = _int_in(safe_getattr(exc, attr), 100, 599)
        if status is not None:
            return status
    module = type(exc).__module__ or ""
    if module.startswith(("urllib.", "google.")):  # urllib HTTPError, google.api_core errors
        return _int_in(safe_getattr(exc, "code"), 100, 599)
    return None


def _headers(exc: BaseException) -> Any:
    response = safe_getattr(exc, "response")
    if isinstance(response, Mapping):
        return _mapping_get(response, "ResponseMetadata", "HTTPHeaders")
    if response is not None:
        headers = safe_getattr(response, "headers")
        if headers is not None:
            return headers
    return safe_getattr(exc, "headers")


def parse_retry_after(value: Any, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


def requested_delay(exc: BaseException) -> float | None:
    """The delay an error asks for: carried on it (``failtrack_retry_after``) or ``Retry-After``."""
    carried = safe_getattr(exc, RETRY_AFTER_ATTR)
    if isinstance(carried, int | float) and not isinstance(carried, bool):
        if math.isfinite(carried):
            return max(float(carried), 0.0)
    headers = _headers(exc)
    if headers is None:
        return None
    try:
        value = headers.get("Retry-After")
        if value is None:
            value = headers.get("retry-after")
    except Exception:
        return None
    return parse_retry_after(value)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a PostgreSQL driver error (psycopg 3 and asyncpg: ``sqlstate``; psycopg2: ``pgcode``)."""
    for attr in ("sqlstate", "pgcode"):
        code = safe_getattr(exc, attr)
        if isinstance(code, str) and len(code) == 5:
            return code.upper()
    return None


def cloud_error_code(exc: BaseException) -> str | None:
    """A cloud SDK's error code: botocore's ``response['Error']['Code']``, or a Google API reason."""
    response = safe_getattr(exc, "response")
    if isinstance(response, Mapping):
        code = _mapping_get(response, "Error", "Code")
        if isinstance(code, str) and code:
            return code
    module = type(exc).__module__ or ""
    if module.startswith("google."):
        reason = safe_getattr(exc, "reason")
        if isinstance(reason, str) and reason:
            return reason
    return None


def os_errno(exc: BaseException) -> int | None:
    """``errno`` of an ``OSError`` (or of anything that carries a plausible one)."""
    if isinstance(exc, OSError):
        return _int_in(safe_getattr(exc, "errno"), 1, 4095)
    return None
