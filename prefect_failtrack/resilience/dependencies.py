"""The dependency a failure hit: declared on the task, or read from the exception by its shape.

Nothing here imports the libraries it reads (as in ``classification/introspect.py``):
attributes are read with `safe_getattr`, messages with patterns. A name is
``scheme://host:port``: never a user, a password, a path or a query, and for a database
the server, not the database (every driver tells the server, only some the database; a
circuit is about reaching the server). Well-known ports name their scheme when the error only said "TCP"
(asyncpg and aio-pika raise the socket's own ``ConnectionRefusedError``), so that
psycopg and asyncpg failures against one server name the same dependency.

    >>> request = httpx.Request("GET", "https://user:pw@api.x.io/v1?token=t")
    >>> dependency_of(httpx.ConnectError("refused", request=request))
    'https://api.x.io:443'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from prefect.logging import get_logger

from ..classification.introspect import iter_chain, safe_getattr, safe_message

logger = get_logger("prefect_failtrack.resilience")

DependencySpec = str | Callable[[dict[str, Any]], Any] | None
"""What ``tracked_task(dependency=...)`` takes: a name, or a function of the run's parameters."""

MAX_NAME = 200
DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "redis": 6379, "rediss": 6379,
                 "amqp": 5672, "amqps": 5671, "nats": 4222, "mqtt": 1883, "mysql": 3306,
                 "mongodb": 27017, "kafka": 9092}  # fmt: skip
WELL_KNOWN = {port: scheme for scheme, port in DEFAULT_PORTS.items()
              if scheme not in ("rediss", "amqps", "http", "https")}  # fmt: skip

# Attribute paths that hold a URL, most specific first (httpx, requests, aiohttp, others).
URL_PATHS = (("request", "url"), ("response", "url"), ("request_info", "url"), ("url",),
             ("endpoint_url",))  # fmt: skip
# Objects that carry host and port: the error itself (aiohttp), urllib3's connection and pool.
HOLDERS = ((), ("conn",), ("pool",))  # conn first: urllib3 2 deprecates a connection's "pool"
MESSAGES = (
    # libpq (psycopg, psycopg2): 'connection to server at "db" (10.0.0.5), port 5432 failed'
    (re.compile(r'connection to server at "([^"]+)"(?: \([^)]*\))?, port (\d+) failed'),
     "postgresql"),
    # redis-py: 'Error 111 connecting to cache.internal:6379. Connection refused.'
    (re.compile(r"connecting to ([\w.\-]+|\[[0-9a-fA-F:]+\]):(\d+)"), "redis"),
    # asyncio's socket connect (asyncpg, aio-pika, nats-py): "Connect call failed ('h', 5432)"
    (re.compile(r"Connect call failed \('([^']+)', (\d+)"), "tcp"),
    # aiohttp: 'Cannot connect to host api.x.io:443 ssl:default'
    (re.compile(r"Cannot connect to host ([^\s:]+|\[[0-9a-fA-F:]+\]):(\d+)"), "http"),
)  # fmt: skip


def name(scheme: str, host: str, port: int | None) -> str | None:
    """``scheme://host:port``, lowercased; ``None`` without a host."""
    host = host.strip().lower()
    if not host:
        return None
    scheme = (scheme or "tcp").lower()
    if scheme == "tcp" and port in WELL_KNOWN:
        scheme = WELL_KNOWN[port]
    if scheme == "http" and port == 443:
        scheme = "https"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6
    port = port if port is not None else DEFAULT_PORTS.get(scheme)
    return (f"{scheme}://{host}" + (f":{port}" if port is not None else ""))[:MAX_NAME]


def from_url(value: Any) -> str | None:
    """The dependency of a URL (a string, or an object whose ``str`` is one: httpx, yarl)."""
    try:
        text = value if isinstance(value, str) else str(value)
        parts = urlsplit(text.strip())
        if not parts.scheme or not parts.hostname:
            return None
        return name(parts.scheme, parts.hostname, parts.port)
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) and value else None


def _port(value: Any) -> int | None:
    try:
        port = int(_text(value) or value)
    except (TypeError, ValueError):
        return None
    return port if 0 < port < 65536 else None


def _walk(obj: Any, path: tuple[str, ...]) -> Any:
    for attribute in path:
        if obj is None:
            return None
        obj = safe_getattr(obj, attribute)
    return obj


def _from_holder(obj: Any) -> str | None:
    host = _text(safe_getattr(obj, "host"))
    port = _port(safe_getattr(obj, "port"))
    if host is None or port is None:
        return None
    key = safe_getattr(obj, "_conn_key")  # aiohttp's ConnectionKey
    https = safe_getattr(key, "is_ssl") is True or "HTTPS" in type(obj).__name__
    scheme = _text(safe_getattr(obj, "scheme")) or ("https" if https else "http")
    return name(scheme, host, port)


def _from_libpq(exc: BaseException) -> str | None:
    pgconn = safe_getattr(exc, "pgconn")  # psycopg 3: the connection the error came from
    if pgconn is None:
        return None
    host, port = _text(safe_getattr(pgconn, "host")), _port(safe_getattr(pgconn, "port"))
    if host is None or host.startswith("/"):  # a Unix socket: the message tells it better
        return None
    return name("postgresql", host, port)


def _from_message(exc: BaseException) -> str | None:
    message = safe_message(exc, limit=1000)
    for pattern, scheme in MESSAGES:
        match = pattern.search(message)
        if match:
            return name(scheme, match.group(1).strip("[]"), _port(match.group(2)))
    socket = re.search(r'server on socket "([^"]+)"', message)  # libpq over a Unix socket
    if socket:
        return f"postgresql://{socket.group(1)}"[:MAX_NAME]
    return None


def _from_attributes(exc: BaseException) -> str | None:
    for path in URL_PATHS:
        value = _walk(exc, path)
        if value is not None and (found := from_url(value)):
            return found
    kwargs = safe_getattr(exc, "kwargs")  # botocore: EndpointConnectionError(endpoint_url=...)
    if isinstance(kwargs, Mapping) and (found := from_url(kwargs.get("endpoint_url"))):
        return found
    for path in HOLDERS:
        holder = _walk(exc, path) if path else exc
        if holder is not None and (found := _from_holder(holder)):
            return found
    return _from_libpq(exc)


def dependency_of(exc: BaseException | None) -> str | None:
    """The dependency `exc` (or what it wraps) names, or ``None``; never raises.

    Attributes anywhere in the chain first (they are exact), then messages."""
    if exc is None:
        return None
    try:
        links = list(iter_chain(exc))
        for read in (_from_attributes, _from_message):
            for link in links:
                if found := read(link):
                    return found
    except Exception:
        return None
    return None


def declared(spec: DependencySpec, parameters: Mapping[str, Any] | None) -> str | None:
    """The dependency a decorator names: a string, or what a function of the parameters returns.

    The function gets the task run's parameters as a dict; what it returns is used when it
    is a non-empty string. If it raises, the answer is ``None`` and a warning is logged.
    """
    if spec is None:
        return None
    if isinstance(spec, str):
        return spec.strip()[:MAX_NAME] or None
    try:
        value = spec(dict(parameters or {}))
    except Exception as exc:
        logger.warning("failtrack: the task's dependency function raised %s: %s; no dependency "
                       "named for this run", type(exc).__name__, safe_message(exc, 200))
        return None
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_NAME] or None


__all__ = ["DependencySpec", "declared", "dependency_of", "from_url", "name"]
