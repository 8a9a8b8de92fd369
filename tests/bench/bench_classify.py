"""classify: median cost of one call, on exceptions decided by type and by message pattern only.

Each exception is raised for real (so it has a traceback and, where realistic, a
chain), then classified in loops; one figure per exception is the median over
repeats of (loop time / calls), and the line reports the median over the
exceptions of each kind (and the slowest one). A fixed pure-Python workload,
timed interleaved with the same loops, is the reference for how fast the machine
was at the time (``ref_us``): compare figures across runs by it.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable

from _common import load_average, log, median

from prefect_failtrack import ErrorType, classify


class ApiError(Exception):
    """A library's own error type that no rule knows: only its message can decide."""


def _raised(make: Callable[[], BaseException]) -> BaseException:
    try:
        raise make()
    except BaseException as exc:  # noqa: BLE001
        return exc


def _chained(outer: Callable[[], BaseException], inner: Callable[[], BaseException]
             ) -> BaseException:
    try:
        try:
            raise inner()
        except BaseException as cause:  # noqa: BLE001
            raise outer() from cause
    except BaseException as exc:  # noqa: BLE001
        return exc


def by_type() -> list[BaseException]:
    return [
        _raised(lambda: ValueError("invalid literal for int() with base 10: 'n/a'")),
        _raised(lambda: KeyError("customer_id")),
        _raised(lambda: TimeoutError("read timed out")),
        _raised(lambda: ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")),
        _raised(lambda: FileNotFoundError(errno.ENOENT, "No such file", "/data/in.csv")),
        _raised(lambda: PermissionError(errno.EACCES, "Permission denied")),
        _chained(lambda: ApiError("export step failed"), lambda: ConnectionRefusedError(111, "x")),
    ]


def by_message() -> list[BaseException]:
    long_prefix = "while loading batch 17 of table orders into the warehouse, the server said: "
    return [
        _raised(lambda: RuntimeError("upstream answered: rate limit exceeded, slow down")),
        _raised(lambda: ApiError("Service temporarily unavailable (HTTP 503)")),
        _raised(lambda: Exception("connection reset by peer")),
        _raised(lambda: ApiError("operation timed out after 30 s")),
        _raised(lambda: RuntimeError("Deadlock found when trying to get lock")),
        _raised(lambda: ApiError(long_prefix * 3 + "duplicate key violates unique constraint")),
        _chained(lambda: ApiError("sync failed"), lambda: RuntimeError("quota exceeded for today")),
    ]


def _reference() -> None:
    total = 0
    for i in range(50):
        total += i * i
    str(total)


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def _measure(excs: list[BaseException], calls: int, repeats: int
             ) -> tuple[list[float], list[float]]:
    """Per exception, the median per-call time; and the reference, timed between them."""
    figures: list[float] = []
    reference: list[float] = []
    for exc in excs:
        samples = []
        for _ in range(repeats):
            samples.append(_per_call_us(lambda exc=exc: classify(exc), calls))
            reference.append(_per_call_us(_reference, calls))
        figures.append(median(samples))
    return figures, reference


def run(quick: bool) -> dict:
    calls, repeats = (500, 5) if quick else (2000, 15)
    typed, messaged = by_type(), by_message()
    for exc in typed:
        assert not classify(exc).reason.startswith("message"), (exc, classify(exc))
        assert classify(exc).error_type is not ErrorType.UNKNOWN, exc
    for exc in messaged:
        assert classify(exc).reason.startswith("message"), (exc, classify(exc))
    for exc in typed + messaged:  # warm caches, as a long-running worker has them
        classify(exc)
    type_us, ref_a = _measure(typed, calls, repeats)
    message_us, ref_b = _measure(messaged, calls, repeats)
    unknown_us, _ = _measure([_raised(lambda: ApiError("nothing any rule knows"))], calls, repeats)
    log("classify: type %s µs", [round(x, 1) for x in type_us])
    log("classify: message %s µs", [round(x, 1) for x in message_us])
    return {
        "bench": "classify",
        "type_us": round(median(type_us), 2),
        "message_us": round(median(message_us), 2),
        "type_us_max": round(max(type_us), 2),
        "message_us_max": round(max(message_us), 2),
        "unknown_us": round(unknown_us[0], 2),
        "ref_us": round(median(ref_a + ref_b), 3),
        "exceptions": len(typed) + len(messaged),
        "load": load_average(),
    }
