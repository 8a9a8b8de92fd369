"""Safe, import-free reading of exceptions: names, messages, chains, HTTP status, SQLSTATE.

Nothing here imports the libraries it reads: everything goes through attributes,
and every accessor swallows whatever a hostile exception raises.
"""

from __future__ import annotations

import email.utils
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from .types import ERROR_TYPE_ATTR, RETRY_AFTER_ATTR

MAX_CHAIN = 32
MESSAGE_LIMIT = 4096

# The attributes each reader below looks at on the exception itself. A rule built on a
# reader declares them (`Rule.needs`), and the engine does not ask it about an exception
# that has none of them (see `present_attributes`): most exceptions carry none at all.
CARRIED_ATTRIBUTES = frozenset({ERROR_TYPE_ATTR})
HTTP_STATUS_ATTRIBUTES = frozenset(
    {"response", "resp", "status", "status_code", "http_status", "code"}
)
DELAY_ATTRIBUTES = frozenset(
    {RETRY_AFTER_ATTR, "response", "resp", "headers", "retry_after", "retry_after_seconds"}
)
SQLSTATE_ATTRIBUTES = frozenset({"sqlstate", "pgcode", "sql_state"})
CLOUD_CODE_ATTRIBUTES = frozenset({"response", "reason"})
ERRNO_ATTRIBUTES = frozenset({"errno"})
#: A library's own verdict on its error, its error labels, names, structured reasons.
VERDICT_ATTRIBUTES = (
    "retryable", "is_retryable", "retriable", "is_transient", "transient", "temporary",
    "isrecoverable",
)
LABEL_ATTRIBUTES = ("_error_labels", "error_labels")
NAME_ATTRIBUTES = ("error_code", "error_name")
OTHER_FACT_ATTRIBUTES = frozenset(
    {"failtrack_facts", "grpc_status_code", "errors", "timeout", "is_timeout", "body"}
)
#: Pseudo-attribute of the classes a knowledge pack reads a code from (`set_sourced`).
SOURCED = "<code source>"
# Inner errors kept by libraries (see `iter_chain`): SQLAlchemy's ``orig``, urllib3's
# ``reason``, Azure's ``inner_exception``, tenacity's ``last_attempt`` (a future).
WRAPPER_ATTRIBUTES = ("orig", "reason", "inner_exception", "last_attempt")
FACT_ATTRIBUTES = (
    HTTP_STATUS_ATTRIBUTES | DELAY_ATTRIBUTES | SQLSTATE_ATTRIBUTES | CLOUD_CODE_ATTRIBUTES
    | ERRNO_ATTRIBUTES | frozenset(VERDICT_ATTRIBUTES) | frozenset(LABEL_ATTRIBUTES)
    | frozenset(NAME_ATTRIBUTES) | OTHER_FACT_ATTRIBUTES | frozenset({SOURCED})
)
WATCHED_ATTRIBUTES = CARRIED_ATTRIBUTES | FACT_ATTRIBUTES | frozenset(WRAPPER_ATTRIBUTES)
_sourced: frozenset[str] = frozenset()


def set_sourced(names: frozenset[str]) -> None:
    """The dotted names of the classes knowledge packs read codes from (`facts.set_sources`)."""
    global _sourced
    _sourced = names
    _class_attributes.cache_clear()


@lru_cache(maxsize=4096)
def qualified_name(cls: type) -> str:
    """``module.QualName`` of a class, e.g. ``httpx.ConnectTimeout``."""
    module = _str_attr(cls, "__module__") or "?"
    name = _str_attr(cls, "__qualname__") or _str_attr(cls, "__name__") or "?"
    return name if module == "builtins" else f"{module}.{name}"


def _str_attr(obj: Any, name: str) -> str | None:
    value = safe_getattr(obj, name)
    return value if isinstance(value, str) else None


def module_of(exc: BaseException) -> str:
    """The ``__module__`` of an exception's class, ``""`` when it is missing or not a string."""
    return _str_attr(type(exc), "__module__") or ""


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


# The real thing, whatever a class or metaclass pretends: what attribute lookup itself uses.
_REAL_MRO = type.__dict__["__mro__"]
_REAL_NAMESPACE = type.__dict__["__dict__"]
_INSTANCE_DICT = BaseException.__dict__["__dict__"]
_COMPUTED = ("__getattr__", "__getattribute__")
_CHAIN_SLOTS = ("__cause__", "__context__", "__suppress_context__")  # BaseException's own


def present_attributes(exc: BaseException) -> frozenset[str] | None:
    """Which of `WATCHED_ATTRIBUTES` ``getattr`` could find on `exc`; ``None`` if it cannot tell.

    An attribute is found only in the instance's ``__dict__`` or in a class of its MRO, unless
    a class computes attributes (``__getattr__`` / ``__getattribute__``): then anything goes,
    and so does anything unexpected here. Over-approximates, never under-approximates.
    Not ``None`` also tells that reading the chain (``__cause__``, ``__context__``,
    ``__suppress_context__``) cannot raise: no class redefines them.
    """
    try:
        known = _class_attributes(type(exc))
        if known is None:
            return None
        own = _INSTANCE_DICT.__get__(exc)
        return known | WATCHED_ATTRIBUTES.intersection(own) if own else known
    except Exception:
        return None


@lru_cache(maxsize=4096)
def _class_attributes(cls: type) -> frozenset[str] | None:
    found: set[str] = set()
    for base in _REAL_MRO.__get__(cls):
        if base is object or base is BaseException:  # generic lookup, nothing watched
            continue
        namespace = _REAL_NAMESPACE.__get__(base)
        if any(name in namespace for name in _COMPUTED + _CHAIN_SLOTS):
            return None
        found.update(name for name in WATCHED_ATTRIBUTES if name in namespace)
    if _sourced and not _sourced.isdisjoint(_mro_names(cls)):
        found.add(SOURCED)
    return frozenset(found)


class RecentMessages:
    """The messages of the last few exceptions failtrack handled in this process, by identity.

    ``str()`` of an exception is user code and may be slow (issue 18): the capture layer
    computes it once per failure, bounded in time, and remembers it here; `safe_message`
    answers from here after that: classification, the dependency read from the message,
    the circuit breaker and the rows of a task's, then its flow's failure (often the same
    exception object) all see that one computation."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.messages: OrderedDict[int, tuple[BaseException, str]] = OrderedDict()

    def get(self, exc: BaseException) -> str | None:
        with self.lock:
            known = self.messages.get(id(exc))
        return known[1] if known is not None and known[0] is exc else None

    def remember(self, exc: BaseException, text: str) -> None:
        with self.lock:
            self.messages[id(exc)] = (exc, text)
            self.messages.move_to_end(id(exc))
            while len(self.messages) > self.size:
                self.messages.popitem(last=False)


RECENT_MESSAGES = RecentMessages()


def safe_message(exc: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """``str(exc)`` cut to `limit` characters; never raises, even if ``__str__`` does."""
    known = RECENT_MESSAGES.get(exc)
    if known is not None:
        return known[:limit]
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
    for link, _ in chain_links(exc, limit):
        yield link


def chain_links(
    exc: BaseException, limit: int = MAX_CHAIN
) -> list[tuple[BaseException, frozenset[str] | None]]:
    """The links of `iter_chain`, each with its `present_attributes`."""
    links: list[tuple[BaseException, frozenset[str] | None]] = []
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < limit:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        has = present_attributes(current)
        links.append((current, has))
        inner: list[BaseException] = []
        for attr in WRAPPER_ATTRIBUTES:
            if has is None or attr in has:
                candidate = safe_getattr(current, attr)
                if attr == "last_attempt":
                    candidate = _failed_with(candidate)
                if isinstance(candidate, BaseException):
                    inner.append(candidate)
        if has is None:
            cause = safe_getattr(current, "__cause__")
            context = safe_getattr(current, "__context__")
            suppressed = safe_getattr(current, "__suppress_context__")
        else:  # BaseException's own slots (see `present_attributes`): reading cannot raise
            cause, context = current.__cause__, current.__context__
            suppressed = current.__suppress_context__
        if isinstance(cause, BaseException):
            inner.append(cause)
        if isinstance(context, BaseException) and suppressed is not True:  # never bool(hostile)
            inner.append(context)
        if inner:
            stack.extend(reversed(inner))
    return links


def _failed_with(future: Any) -> Any:
    """The exception a finished future (tenacity's ``last_attempt``) failed with, if any."""
    exception = safe_getattr(future, "exception")
    if not callable(exception):
        return None
    try:
        return exception(timeout=0)  # never waits: a future not done raises TimeoutError
    except Exception:
        return None


def group_members(exc: BaseException) -> tuple[BaseException, ...]:
    """Members of an exception group (``()`` for anything else)."""
    if isinstance(exc, BaseExceptionGroup):
        members = safe_getattr(exc, "exceptions")
        if isinstance(members, tuple):
            return tuple(m for m in members if isinstance(m, BaseException))
    return ()


def int_in(value: Any, low: int, high: int) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        number = int(value)  # a plain int, also from IntEnums such as http.HTTPStatus
    except Exception:
        return None
    return number if low <= number <= high else None


def mapping_get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        try:
            obj = obj.get(key)
        except Exception:
            return None
    return obj


Getter = Callable[[str], Any]
"""Reads one attribute of an exception, ``None`` when absent (or not to be read)."""


def getter(exc: BaseException, get: Getter | None = None) -> Getter:
    """`get`, or one that reads any attribute of `exc` safely (`safe_getattr`)."""
    return get if get is not None else lambda name: safe_getattr(exc, name)


def http_status(
    exc: BaseException, any_code: bool = False, get: Getter | None = None
) -> int | None:
    """The HTTP status an exception carries, from any of the common client shapes.

    ``code`` counts when it is an int in 100-599 on urllib's and Google's errors, and on
    any exception with `any_code` (the generic layer: a knowledge pack claims ``code``
    where a library means something else by it).
    """
    get = getter(exc, get)
    for holder in ("response", "resp"):
        response = get(holder)
        if response is None:
            continue
        if isinstance(response, Mapping):  # botocore ClientError.response
            status = int_in(mapping_get(response, "ResponseMetadata", "HTTPStatusCode"), 100, 599)
            if status is not None:
                return status
            continue
        for attr in ("status_code", "status"):
            status = int_in(safe_getattr(response, attr), 100, 599)
            if status is not None:
                return status
    for attr in ("status", "status_code", "http_status"):  # aiohttp, SDK errors
        status = int_in(get(attr), 100, 599)
        if status is not None:
            return status
    # urllib.error.HTTPError and google.api_core errors keep the status in .code
    if any_code or module_of(exc).startswith(("urllib.", "google.")):
        return int_in(get("code"), 100, 599)
    return None


def _headers(get: Getter) -> Any:
    for holder in ("response", "resp"):
        response = get(holder)
        if isinstance(response, Mapping):
            headers = mapping_get(response, "ResponseMetadata", "HTTPHeaders")
            if headers is not None:
                return headers
        elif response is not None:
            headers = safe_getattr(response, "headers")
            if headers is not None:
                return headers
    return get("headers")


def parse_retry_after(value: Any, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` value: delta-seconds or an HTTP date; ``None`` for garbage."""
    try:
        if isinstance(value, bytes):
            value = value.decode("latin-1", "replace")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None
        text = str(value).strip()
        if len(text) > 64:  # no honest Retry-After is this long
            return None
        try:
            seconds = float(text)
        except ValueError:
            when = email.utils.parsedate_to_datetime(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - (now or datetime.now(UTC))).total_seconds()
        if not math.isfinite(seconds):
            return None
        return max(seconds, 0.0)
    except Exception:  # unparseable dates, overflowing years, hostile str subclasses
        return None


def requested_delay(exc: BaseException, get: Getter | None = None) -> float | None:
    """The delay an error asks for: carried on it (``failtrack_retry_after``), stated by the
    library (``retry_after``, ``retry_after_seconds``), or in the response's headers
    (``Retry-After``, ``retry-after-ms``, ``x-ms-retry-after-ms``, and a rate limit's reset
    when none remain: ``RateLimit-Reset`` / ``X-RateLimit-Reset``)."""
    get = getter(exc, get)
    for attr in (RETRY_AFTER_ATTR, "retry_after", "retry_after_seconds"):
        value = get(attr)
        if value is None:
            continue
        seconds = safe_getattr(value, "total_seconds")  # a timedelta
        delay = as_delay(value) if not callable(seconds) else _seconds_of(seconds)
        if delay is None and attr != RETRY_AFTER_ATTR:
            delay = parse_retry_after(value)
        if delay is not None:
            return delay
    headers = _headers(get)
    if headers is None:
        return None
    return delay_from_headers(headers)


def _seconds_of(total_seconds: Any) -> float | None:
    try:
        return as_delay(total_seconds())
    except Exception:
        return None


def _header(headers: Any, name: str) -> Any:
    try:
        value = headers.get(name)
        return headers.get(name.lower()) if value is None else value
    except Exception:
        return None


def delay_from_headers(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds to wait from response headers (see `requested_delay`); ``None`` if none say."""
    delay = parse_retry_after(_header(headers, "Retry-After"))
    if delay is not None:
        return delay
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        millis = parse_retry_after(_header(headers, name))
        if millis is not None:
            return millis / 1000
    for prefix in ("RateLimit", "X-RateLimit"):
        remaining = _header(headers, f"{prefix}-Remaining")
        if str(remaining).strip() != "0":
            continue
        reset = parse_retry_after(_header(headers, f"{prefix}-Reset"))
        if reset is not None:
            if reset > 1e9:  # an epoch time (GitHub and others), not a delta
                reset = max(reset - (now or datetime.now(UTC)).timestamp(), 0.0)
            return reset
    return None


def as_delay(value: Any) -> float | None:
    """A number of seconds as a finite, non-negative float; ``None`` for anything else."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except Exception:  # huge ints, float subclasses whose __float__ raises
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def sqlstate(exc: BaseException, get: Getter | None = None) -> str | None:
    """The SQLSTATE an error carries under a usual name.

    psycopg 3, asyncpg, mysql-connector, Snowflake: ``sqlstate``; psycopg2: ``pgcode``;
    others: ``sql_state``. (pg8000's lives in ``args[0]['C']``: see `facts`.)
    """
    get = getter(exc, get)
    for attr in ("sqlstate", "pgcode", "sql_state"):
        code = get(attr)
        if isinstance(code, str) and len(code) == 5:
            return code.upper()
    return None


def cloud_error_code(exc: BaseException) -> str | None:
    """A cloud SDK's error code: botocore's ``response['Error']['Code']``, or a Google reason."""
    response = safe_getattr(exc, "response")
    if isinstance(response, Mapping):
        code = mapping_get(response, "Error", "Code")
        if isinstance(code, str) and code:
            return code
    if module_of(exc).startswith("google."):
        reason = safe_getattr(exc, "reason")
        if isinstance(reason, str) and reason:
            return reason
    return None


def os_errno(exc: BaseException) -> int | None:
    """``errno`` of an ``OSError`` (or of anything that carries a plausible one)."""
    if isinstance(exc, OSError):
        return int_in(safe_getattr(exc, "errno"), 1, 4095)
    return None
