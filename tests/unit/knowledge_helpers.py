"""Helpers shared by the knowledge tests: provoke a real exception, read a decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect_failtrack import ErrorType, classify


def raised(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> BaseException:
    """The exception `fn(*args, **kwargs)` really raises."""
    try:
        fn(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("expected an exception")


def decision(exc: BaseException) -> tuple[ErrorType, str]:
    """(class, deciding rule) of an exception."""
    result = classify(exc)
    return result.error_type, result.reason


def unreachable(port: int, host: str = "127.0.0.1", what: str = "") -> str | None:
    """Why a local service cannot be used (``None`` when it answers on `port`)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"{what or 'service'} at {host}:{port} is not reachable ({error})"


def needs_service(port: int, what: str):
    """Skip a test (or module) with a clear reason when the local service is not there."""
    import pytest

    why = unreachable(port, what=what)
    return pytest.mark.skipif(why is not None, reason=why or "")


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
