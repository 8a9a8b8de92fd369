"""hostile_exceptions: exceptions built to break whoever reads them, through classify, the row
builder (redaction, truncation, fingerprint) and the recorder, into SQLite and PostgreSQL.

Hypothesis generates them (``@given`` run as a plain function, no example database, no
shrinking): classes with a raising or non-string ``__str__``/``__repr__``, a strange
``__module__``, attributes that raise or hold garbage where classify looks (``response``,
``status_code``, ``sqlstate``, ``headers``...), unpicklable attributes and notes;
messages that are huge (up to 1 MB), undecodable bytes, control characters, NUL, lone
surrogates; cyclic chains through ``__cause__``/``__context__``, chains thousands of links
deep, nested exception groups (also wide and deep, the same member repeated); user
rules that raise or answer nonsense; metadata with cycles, deep nesting, NaN, huge
integers and objects whose ``str`` raises.

Each generated exception is tried as it is, and three more are made of it: the cause
of a wrapper, the context of another error, a member of a group. Each of these goes
through `classify`, `capture.rows.error_columns`, `capture.rows.transition_row`, a
spool round trip and two recorders (SQLite and PostgreSQL). ``tried`` counts the
exceptions (``generated`` those hypothesis made), ``raised`` those where any of this
raised; ``hung`` those that took longer than 10 s (each is cut off then). ``rows``
counts what both databases hold afterwards, ``expected`` is twice ``tried``;
``rejected`` and ``dropped`` add up the recorders' counts. The seed is logged; set
``FAILTRACK_DRILL_SEED`` to replay a run.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from prefect_failtrack import ErrorType, classify
from prefect_failtrack.capture import rows
from prefect_failtrack.store.recorder import TRANSITION, Recorder
from prefect_failtrack.store.spool import Spool, read
from tests.drills._common import log, postgres_database, scalar

NEEDS_PREFECT = False
MUST_BE_ZERO = ("hung", "dropped", "rejected", "spool_lost")
EXAMPLE_TIMEOUT_S = 10.0


class Boom(Exception):
    """What hostile members raise."""


class Hung(BaseException):
    """Raised into an example that takes too long (a BaseException: nothing swallows it)."""


def _raise(name: str) -> Any:
    def raising(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise Boom(name)

    return raising


class Unprintable:
    __str__ = __repr__ = __format__ = _raise("str")


class Unpicklable:
    __reduce__ = __reduce_ex__ = __getstate__ = _raise("pickle")


class RaisingMapping(Mapping):  # type: ignore[type-arg]
    __getitem__ = get = __iter__ = __len__ = __contains__ = _raise("mapping")


class LyingInt(int):
    __float__ = __index__ = __int__ = __str__ = __repr__ = _raise("int")


ATTRIBUTES = [
    "response", "status", "status_code", "code", "sqlstate", "pgcode", "headers", "errno",
    "orig", "reason", "exceptions", "failtrack_error_type", "failtrack_retry_after", "args",
    "__notes__", "__cause__", "__context__", "__suppress_context__", "__traceback__",
]  # fmt: skip


def _huge(size: int, unit: str) -> str:
    return (unit * (size // len(unit) + 1))[:size]


texts = st.one_of(
    st.text(max_size=100),
    st.text(st.characters(categories=["Cs", "Cc", "Zl", "Zp", "Co", "Mn"]), max_size=50),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),  # NUL and control bytes
    st.builds(
        _huge,
        st.sampled_from([5_000] * 6 + [100_000] * 3 + [1_000_000]),
        st.sampled_from(["x", "é€😀", "\x00", "\ud800", "password=hunter2 ", "\n", "ab\x1b[31m"]),
    ),
)

garbage = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), texts, st.binary(max_size=50),
    st.builds(Unprintable), st.builds(Unpicklable), st.builds(RaisingMapping),
    st.builds(LyingInt, st.integers()), st.builds(threading.Lock),
    st.just(lambda: None), st.builds(lambda: (i for i in range(3))),
    st.sampled_from(["40P01", "08006", "TRANSIENT", "NOT_A_CLASS", "ThrottlingException"]),
    st.dictionaries(st.sampled_from(["Retry-After", "retry-after", "x"]),
                    st.one_of(texts, st.integers(), st.builds(Unprintable)), max_size=2),
    st.fixed_dictionaries({
        "Error": st.fixed_dictionaries({"Code": st.one_of(texts, st.builds(Unprintable))}),
        "ResponseMetadata": st.fixed_dictionaries({
            "HTTPStatusCode": st.one_of(st.integers(), texts, st.builds(LyingInt, st.integers())),
            "HTTPHeaders": st.one_of(st.builds(RaisingMapping), st.dictionaries(
                st.just("retry-after"), st.one_of(texts, st.integers()), max_size=1)),
        }),
    }),
)  # fmt: skip

BASES = [Exception, ValueError, OSError, ConnectionError, TimeoutError, KeyError, UnicodeError,
         RuntimeError, BaseException, KeyboardInterrupt, GeneratorExit, SystemExit]  # fmt: skip


@st.composite
def hostile_class(draw: Any) -> type[BaseException]:
    namespace: dict[str, Any] = {}
    if draw(st.booleans()):
        namespace["__str__"] = draw(st.sampled_from(
            [_raise("__str__"), lambda self: 42, lambda self: None, lambda self: "\x00\ud800",
             lambda self: _huge(200_000, "y")]))  # fmt: skip
    if draw(st.booleans()):
        namespace["__repr__"] = draw(st.sampled_from([_raise("__repr__"), lambda self: b"x"]))
    namespace["__module__"] = draw(st.one_of(
        st.sampled_from(["httpx", "google.api_core.exceptions", "urllib.error", "builtins",
                         "psycopg.errors", "botocore.exceptions", "", "\x00", "\ud800"]),
        st.integers(), st.none(), st.builds(Unprintable)))  # fmt: skip
    for name in draw(st.lists(st.sampled_from(ATTRIBUTES[:13]), max_size=3, unique=True)):
        namespace[name] = property(_raise(name)) if draw(st.booleans()) else draw(garbage)
    name = draw(st.sampled_from(["ConnectTimeout", "HTTPStatusError", "OperationalError",
                                 "ClientError", "Weird", "x" * 300, "Ünïcode"]))  # fmt: skip
    try:
        return type(name, (draw(st.sampled_from(BASES)),), namespace)
    except Exception:  # a class Python refuses (e.g. a __module__ it will not take)
        return type(name, (Exception,), {})


def _raised(exc: BaseException, depth: int) -> BaseException:
    """`exc` raised from `depth` nested calls, so that it has a real traceback."""

    def dive(n: int) -> None:
        if n <= 0:
            raise exc
        dive(n - 1)

    try:
        dive(depth)
    except BaseException as caught:  # noqa: BLE001
        return caught
    return exc


@st.composite
def one_exception(draw: Any) -> BaseException:
    cls = draw(hostile_class())
    args = draw(st.lists(st.one_of(texts, st.binary(max_size=50), st.integers(),
                                   st.builds(Unprintable), st.builds(Unpicklable)), max_size=3))
    try:
        exc = cls(*args)
    except Exception:
        try:
            exc = cls()
        except Exception:
            exc = Exception(*args)
    for name in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=3, unique=True)):
        if name in ("__cause__", "__context__", "__traceback__"):
            continue  # chains are built below; tracebacks come from raising
        try:
            setattr(exc, name, draw(garbage))
        except Exception:
            pass
    if draw(st.booleans()):
        try:
            exc.add_note(draw(texts))
        except Exception:
            pass
    if draw(st.integers(0, 3)) == 0:
        exc = _raised(exc, draw(st.integers(0, 60)))
    return exc


@st.composite
def chain(draw: Any) -> BaseException:
    links = draw(st.lists(one_exception(), min_size=1, max_size=4))
    for link in links:
        for attr in ("__cause__", "__context__"):
            if draw(st.booleans()):
                try:
                    setattr(link, attr, draw(st.sampled_from(links)))  # cycles allowed
                except Exception:
                    pass
        if draw(st.booleans()):
            link.__suppress_context__ = draw(st.booleans())
    return links[0]


@st.composite
def deep_chain(draw: Any) -> BaseException:
    exc = draw(one_exception())
    for i in range(draw(st.sampled_from([100, 1_000, 10_000]))):
        outer = RuntimeError(f"link {i}")
        if i % 2:
            outer.__cause__ = exc
        else:
            outer.__context__ = exc
        exc = outer
    if draw(st.booleans()):  # and back to the start: a cycle thousands of links long
        exc.__context__ = exc
    return exc


@st.composite
def wide_group(draw: Any) -> BaseException:
    """Groups nested `depth` deep, each holding the same member `width` times."""
    exc = draw(one_exception())
    if not isinstance(exc, Exception):
        exc = ConnectionResetError("leaf")
    width, depth = draw(st.integers(2, 20)), draw(st.integers(1, 8))
    for level in range(depth):
        exc = ExceptionGroup(f"level {level}", [exc] * width)
    return exc


def _group(members: list[BaseException]) -> BaseException:
    try:
        if all(isinstance(m, Exception) for m in members):
            return ExceptionGroup("group", members)
        return BaseExceptionGroup("group", members)
    except Exception:
        return BaseExceptionGroup("group", [KeyError("fallback")])


anything = st.one_of(
    st.recursive(st.one_of(chain(), one_exception()),
                 lambda kids: st.lists(kids, min_size=1, max_size=4).map(_group), max_leaves=6),
    deep_chain(),
    wide_group(),
)


def _raising_rule(exc: BaseException) -> Any:
    raise Boom("rule")


def _nonsense_rule(exc: BaseException) -> Any:
    return "NOT A CLASS"


rules = st.lists(
    st.sampled_from([_raising_rule, _nonsense_rule, lambda e: None, lambda e: ErrorType.TIMEOUT,
                     lambda e: Unprintable()]),
    max_size=3,
)


leaves = st.one_of(
    st.none(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.binary(max_size=20),
    st.sampled_from(["password=hunter2", "\x00", "\ud800", "postgresql://u:pw@h/db"]),
    st.builds(Unprintable), st.builds(Unpicklable), st.builds(LyingInt, st.integers()),
    st.builds(RaisingMapping), st.builds(set), st.builds(_huge, st.just(200_000), st.just("k")),
)  # fmt: skip
keys = st.one_of(
    st.text(max_size=20), st.integers(), st.builds(Unprintable),
    st.sampled_from(["password", "X-Api-Key", "\x00", "\ud800", "token\ud800", "ok"]),
)  # fmt: skip


@st.composite
def metadata(draw: Any) -> dict[str, Any]:
    values = st.recursive(
        leaves,
        lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(keys, kids, max_size=3)),
        max_leaves=6,
    )
    meta: dict[Any, Any] = draw(st.dictionaries(keys, values, max_size=3))
    shape = draw(st.integers(0, 5))
    if shape == 0:
        meta["self"] = meta  # a cycle
    elif shape == 1:
        deep: Any = "bottom"
        for _ in range(draw(st.sampled_from([10, 100, 1_000]))):
            deep = {"d": [deep]}
        meta["deep"] = deep
    return meta


class Drill:
    def __init__(self, recorders: list[Recorder], spool: Spool) -> None:
        self.recorders = recorders
        self.spool = spool
        self.examples = 0
        self.tried = 0
        self.raised = 0
        self.hung = 0
        self.recorded = 0
        self.spooled = 0
        self.slowest = 0.0
        self.errors: list[str] = []

    def example(self, exc: BaseException, user_rules: list[Any], meta: dict[str, Any]) -> None:
        """One generated exception, and three more made of it (see `variants`)."""
        self.examples += 1
        for variant in variants(exc):
            self.one(variant, user_rules, meta)
        if self.examples % 1000 == 0:
            log("%d generated, %d tried, %d raised, %d hung; slowest %.2f s so far",
                self.examples, self.tried, self.raised, self.hung, self.slowest)

    def one(self, exc: BaseException, user_rules: list[Any], meta: dict[str, Any]) -> None:
        self.tried += 1
        started = time.monotonic()
        # Then every second again: an alarm that lands where Python ignores exceptions (a gc
        # callback, a __del__) must not let a hang go on.
        signal.setitimer(signal.ITIMER_REAL, EXAMPLE_TIMEOUT_S, 1.0)
        try:
            self._through_failtrack(exc, user_rules, meta)
        except Hung as hang:
            self.hung += 1
            self._note("hung", exc, hang)
        except BaseException as error:  # noqa: BLE001  (anything at all escaping is the finding)
            if isinstance(error, KeyboardInterrupt) and not _is_ours(error):
                raise
            self.raised += 1
            self._note(f"{type(error).__name__}: {error!r}"[:300], exc, error)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.slowest = max(self.slowest, time.monotonic() - started)

    def _through_failtrack(self, exc: BaseException, user_rules: list[Any], meta: Any) -> None:
        classification = classify(exc, rules=user_rules)
        columns = rows.error_columns(exc, classification)
        run_id = str(uuid.uuid4())
        row = rows.transition_row(
            row_id=str(uuid.uuid4()), run_kind="task", run_id=run_id, flow_run_id=run_id,
            task_run_id=run_id, name="hostile", flow_name="drill-hostile", deployment_id=None,
            from_state="Running", to_state="Failed", to_state_type="FAILED",
            occurred_at=datetime.now(UTC), duration_ms=1, run_count=1, origin="drill",
            tags=["drill"], metadata=meta, **columns,
        )  # fmt: skip
        self.spool.append([(TRANSITION, row)])
        self.spooled += 1
        for recorder in self.recorders:
            recorder.record_transition(dict(row))
        self.recorded += 1

    def _note(self, what: str, exc: BaseException, error: BaseException | None = None) -> None:
        if len(self.errors) < 5:
            detail = "".join(traceback.format_exception(error))[-1500:] if error else ""
            self.errors.append(f"{what} on a {type(exc).__name__}\n{detail}")


def variants(exc: BaseException) -> list[BaseException]:
    """`exc`, the cause of a wrapper, the context of another error, and a member of a group."""
    made: list[BaseException] = [exc]
    try:
        raise RuntimeError("while loading the batch") from exc
    except RuntimeError as wrapper:
        made.append(wrapper)
    handling = KeyError("while handling it")
    handling.__context__ = exc
    made.append(handling)
    sibling = ValueError("a sibling failure")
    if isinstance(exc, Exception):
        made.append(ExceptionGroup("batch", [exc, sibling]))
    else:
        made.append(BaseExceptionGroup("batch", [exc, sibling]))
    return made


def _is_ours(error: BaseException) -> bool:
    """A KeyboardInterrupt the drill generated (a hostile class based on it), not Ctrl-C."""
    return type(error) is not KeyboardInterrupt


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hung()


def run(quick: bool) -> dict[str, Any]:
    target = 500 if quick else 10_000  # generated exceptions; each is tried with 3 variants
    run_seed = int(os.environ.get("FAILTRACK_DRILL_SEED") or random.randrange(2**32))
    log("hostile_exceptions: %d generated exceptions, seed %d (FAILTRACK_DRILL_SEED)",
        target, run_seed)
    previous_alarm = signal.signal(signal.SIGALRM, _on_alarm)
    # A rule that raises is logged with its traceback at each classification: thousands here.
    quiet = logging.getLogger("prefect_failtrack.classification")
    previous_level = quiet.level
    quiet.setLevel(logging.ERROR)
    with postgres_database("hostile") as pg_url, tempfile.TemporaryDirectory() as scratch:
        sqlite_url = f"sqlite:///{scratch}/audit.db"
        recorders = [
            Recorder(url, spool_path=Path(scratch) / "home" / "spool.jsonl", flush_interval=0.2)
            for url in (sqlite_url, pg_url)
        ]
        drill = Drill(recorders, Spool(Path(scratch) / "roundtrip.jsonl"))
        started = time.monotonic()
        try:
            round_no = 0
            while drill.examples < target:

                @seed(run_seed + round_no)
                @settings(max_examples=target - drill.examples, database=None,
                          deadline=None, phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck))
                @given(exc=anything, user_rules=rules, meta=metadata())
                def examples(exc: BaseException, user_rules: list[Any], meta: Any) -> None:
                    drill.example(exc, user_rules, meta)

                examples()
                round_no += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_alarm)
            quiet.setLevel(previous_level)
        seconds = time.monotonic() - started
        for recorder in recorders:
            recorder.flush(timeout=120)
            recorder.close()
        counts = {
            name: scalar(url, "SELECT count(*) FROM failtrack_transitions")
            for name, url in (("sqlite", sqlite_url), ("postgresql", pg_url))
        }
        read_back = sum(1 for _ in read(Path(scratch) / "roundtrip.jsonl"))
    for error in drill.errors:
        log("finding: %s", error)
    log("%d exceptions (%d generated) in %.0f s; slowest %.2f s",
        drill.tried, drill.examples, seconds, drill.slowest)

    def total(name: str) -> int:
        return sum(r.stats()[name] for r in recorders)

    return {
        "tried": drill.tried,
        "generated": drill.examples,
        "raised": drill.raised,
        "hung": drill.hung,
        "expected": 2 * drill.recorded,
        "rows": sum(counts.values()),
        "rows_sqlite": counts["sqlite"],
        "rows_postgresql": counts["postgresql"],
        "rejected": total("rejected"),
        "dropped": total("dropped"),
        "spool_lost": drill.spooled - read_back,
        "slowest_s": round(drill.slowest, 2),
        "seed": run_seed,
    }

