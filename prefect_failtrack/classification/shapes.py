"""Readers of one kind of fact each, by shape: gRPC codes, errno, names and reasons, the
library's verdict and labels, 409 meanings; and the normalisation of what they read.

Every reader takes a getter (`introspect.Getter`) that reads only the attributes an
exception has, and never raises. `facts.read_facts` puts them together.
"""

from __future__ import annotations

import errno as errno_module
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from . import introspect
from .introspect import safe_getattr

VERDICT_ATTRIBUTES = introspect.VERDICT_ATTRIBUTES
LABEL_ATTRIBUTES = introspect.LABEL_ATTRIBUTES
NAME_ATTRIBUTES = introspect.NAME_ATTRIBUTES

#: The canonical gRPC status codes (grpc/doc/statuscodes.md), by name.
GRPC_NAMES = frozenset({
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED",
})
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{1,63}")
_EXISTS = re.compile(
    r"already[\s_-]*(?:exists?|in[\s_-]*use|taken|registered)|duplicate", re.I
)
_RETRY = re.compile(
    r"try again|retry|concurren|has been modified|modified concurrently|latest version"
    r"|version conflict|aborted|\block\b|locked|lease|in progress|being (?:deleted|created)",
    re.I,
)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def search(pattern: str, text: str) -> str | None:
    try:
        match = _regex(pattern).search(text)
    except Exception:
        return None
    if match is None:
        return None
    return match.group(1) if match.re.groups else match.group(0)


_ARGS = BaseException.__dict__["args"]


def args_dict(exc: BaseException) -> Mapping[str, Any] | None:
    """``args[0]`` when it is a mapping (pg8000 keeps the server's error fields so)."""
    try:
        args = _ARGS.__get__(exc)
        first = args[0] if args else None
        return first if isinstance(first, Mapping) else None
    except Exception:
        return None


def mapping_value(mapping: Mapping[str, Any] | None, key: str) -> Any:
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except Exception:
        return None


def errno_of(exc: BaseException, get: introspect.Getter) -> int | None:
    value = get("errno")
    if isinstance(exc, OSError):
        return introspect.int_in(value, 1, 4095)  # on anything else, only a real errno value counts
    if isinstance(value, str):
        value = getattr(errno_module, value.strip().upper(), None) if value.isupper() else None
    number = introspect.int_in(value, 1, 4095)  # on anything else, only a real errno counts
    return number if number in errno_module.errorcode else None


def grpc_code(exc: BaseException, get: introspect.Getter | None = None) -> str | None:
    """The name of the gRPC status code an exception carries (``code()``, ``status``...)."""
    get = introspect.getter(exc, get)
    for attr in ("code", "grpc_status_code", "status"):
        value = get(attr)
        if value is None:
            continue
        if attr == "code" and callable(value) and not isinstance(value, type):
            value = called(value)
        name = grpc_name(value)
        if name is not None:
            return name
    return None


def grpc_name(value: Any) -> str | None:
    if isinstance(value, str):
        name = value
    elif isinstance(value, int | float | bytes) or value is None:
        return None
    else:
        name = safe_getattr(value, "name")
        if not isinstance(name, str):
            return None
    name = name.strip().upper()
    return name if name in GRPC_NAMES and name != "OK" else None


def reasons(get: introspect.Getter, claimed: set[str]) -> tuple[str, ...]:
    found: list[str] = []
    response = get("response")
    if isinstance(response, Mapping):  # botocore ClientError
        _add_token(found, introspect.mapping_get(response, "Error", "Code"))
    for attr in ("reason", *NAME_ATTRIBUTES):
        if attr not in claimed:
            _add_token(found, get(attr))
    errors = get("errors")
    if isinstance(errors, list | tuple):
        for entry in errors[:8]:
            _add_token(found, introspect.mapping_get(entry, "reason"))
    if "code" not in claimed:
        code = get("code")
        if isinstance(code, str) and not code.isdigit():
            _add_token(found, code)
    return tuple(dict.fromkeys(found))


def _add_token(found: list[str], value: Any) -> None:
    if isinstance(value, str):
        text = str.__str__(value)  # the text itself, also of a str enum (Azure's error codes)
        if _TOKEN.fullmatch(text):
            found.append(text)


def verdict(get: introspect.Getter, claimed: set[str]) -> tuple[bool, str] | None:
    for attr in VERDICT_ATTRIBUTES:
        if attr in claimed:
            continue
        value = get(attr)
        if value is None:
            continue
        is_call = callable(value) and not isinstance(value, bool)
        said = as_bool(called(value) if is_call else value)
        if said is not None:
            return said, f"{attr}()" if is_call else attr
    return None


def labels(get: introspect.Getter) -> tuple[str, ...]:
    for attr in LABEL_ATTRIBUTES:
        value = get(attr)
        if isinstance(value, set | frozenset | list | tuple):
            labels = sorted(v for v in list(value)[:32] if isinstance(v, str) and len(v) < 80)
            if labels:
                return tuple(str(v) for v in labels)
    return ()


def conflict(exc: BaseException, reasons: tuple[str, ...], get: introspect.Getter) -> str | None:
    text = " ".join((introspect.safe_message(exc, 1024), *reasons))
    body = get("body")
    if isinstance(body, str | bytes):
        text += " " + (body[:1024] if isinstance(body, str) else body[:1024].decode("latin-1"))
    if _EXISTS.search(text):
        return "exists"
    if _RETRY.search(text):
        return "retry"
    return None


# ---------------------------------------------------------------------- normalisation

def called(value: Any) -> Any:
    if callable(value) and not isinstance(value, type | bool):
        try:
            return value()
        except Exception:
            return None
    return value


def as_bool(value: Any) -> bool | None:
    return value if type(value) is bool else None


def as_code(value: Any) -> int | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        number = introspect.int_in(value, -(2**63), 2**63)
        return number
    if isinstance(value, bytes):
        value = value[:64].decode("latin-1")
    if isinstance(value, str):
        text = str.__str__(value).strip()[:64]
        if not text or any(c.isspace() for c in text):  # a message, not a code
            return None
        if text.lstrip("-").isdigit():
            return int(text)
        return text.upper()
    name = safe_getattr(value, "name")  # an enum
    return as_code(name) if isinstance(name, str) else None


def as_sqlstate(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 5 and value.isalnum():
        return str(value).upper()
    return None


def short_text(value: Any) -> str | None:
    return str(value)[:64] if isinstance(value, str) and value else None


def texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v)[:80] for v in value[:32] if isinstance(v, str))
