"""The circuit breaker of one process: circuits read through a short cache, changed in the store.

`get_breaker` gives the process's breaker, bound to the settings capture reads (so a
test that switches databases switches breakers too). Its methods never raise: a store
that fails or hangs is left alone for a growing while (1 s, doubling up to 60 s), and
meanwhile every circuit reads as closed; the first error of each outage is logged and
counted (`safety.ERRORS`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from prefect.logging import get_logger

from ..settings import FailtrackSettings
from .circuit_settings import SETTINGS, CircuitConfig, Limits, resolve
from .safety import ERRORS, StoreTimeout, bounded

if TYPE_CHECKING:  # the store (and SQLAlchemy) is imported at first use, not with capture
    from .circuit_store import CircuitRow, Recorded

logger = get_logger("prefect_failtrack.resilience")
T = TypeVar("T")
FIRST_BACKOFF_S = 1.0
HUNG_BACKOFF_S = 30.0
"""A store that did not answer in time is left alone longer than one that failed at once."""
MAX_BACKOFF_S = 60.0



def utcnow() -> datetime:
    return datetime.now(UTC)


class Unavailable(Exception):
    """The store failed a moment ago: not asked again yet."""


@dataclass(frozen=True, slots=True)
class Admission:
    """What a guarded run may do: call the dependency, call it as the probe, or wait."""

    verdict: Literal["call", "probe", "wait"]
    circuit: CircuitRow | None = None
    until: datetime | None = None  # when to ask again (wait)


CALL = Admission("call")


class Breaker:
    """Circuits of one audit database, as this process sees them."""

    def __init__(self, settings: FailtrackSettings, url: str | None = None) -> None:
        self.settings = settings
        self._url = url
        self._cache: dict[str, tuple[float, CircuitRow | None]] = {}
        self._limits: dict[str, Limits] = {}
        self._block: CircuitConfig | None | bool = False  # False: not looked up yet
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._backoff = FIRST_BACKOFF_S
        self._outage = False

    # ------------------------------------------------------------------ settings

    def limits(self, dependency: str) -> Limits:
        """The dependency's circuit settings (resolved once per process)."""
        found = self._limits.get(dependency)
        if found is None:
            settings = self.settings
            overrides = {
                name: getattr(settings, source)
                for name, source in SETTINGS.items()
                if source in settings.model_fields_set
            }
            defaults = Limits.of(FailtrackSettings.model_construct())  # the built-in values
            found = resolve(dependency, defaults, self._block_circuits(), overrides,
                            settings.circuits)  # fmt: skip
            self._limits[dependency] = found
        return found

    def enabled(self, dependency: str) -> bool:
        return self.settings.circuit_enabled and self.limits(dependency).enabled

    def _block_circuits(self) -> CircuitConfig | None:
        if self._block is False:
            from ..config import load_config  # bounded and cached; None without an API

            config = load_config()
            self._block = getattr(config, "circuits", None)
        return self._block  # type: ignore[return-value]

    # --------------------------------------------------------------------- store

    @property
    def url(self) -> str:
        if self._url is None:
            from ..store.database import resolve_database_url

            self._url = resolve_database_url(self.settings)
        return self._url

    def _call(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` in one transaction, bounded in time; `Unavailable` while the
        store is left alone after an error."""
        if time.monotonic() < self._down_until:
            raise Unavailable
        url = self.url

        def run() -> T:
            from ..store.database import ensure_schema, get_engine

            ensure_schema(url)
            with get_engine(url).begin() as connection:
                return work(connection)

        try:
            result = bounded(run)
        except Exception as exc:
            with self._lock:
                first, self._outage = not self._outage, True
                if isinstance(exc, StoreTimeout):
                    self._backoff = max(self._backoff, HUNG_BACKOFF_S)
                self._down_until = time.monotonic() + self._backoff
                wait, self._backoff = self._backoff, min(self._backoff * 2, MAX_BACKOFF_S)
            if first:
                count = ERRORS.failed()
                logger.warning(
                    "failtrack: the circuit breaker cannot use the audit database (%s: %s); "
                    "circuits read as closed meanwhile, asked again in %.0f s [%d error(s) "
                    "so far].", type(exc).__name__, _first_line(exc), wait, count,
                )
            raise Unavailable from exc
        if self._outage:
            logger.warning("failtrack: the circuit breaker uses the audit database again.")
            self._outage = False
        self._backoff = FIRST_BACKOFF_S
        return result

    def read(self, work: Callable[[Any], T]) -> T:
        """`work(connection)` on the audit database, as the breaker's own reads are made
        (bounded in time, not tried again for a while after an error: `Unavailable`)."""
        return self._call(work)

    def _remember(self, dependency: str, row: CircuitRow | None) -> CircuitRow | None:
        self._cache[dependency] = (time.monotonic() + self.settings.circuit_cache_seconds, row)
        return row

    def state(self, dependency: str, *, fresh: bool = False) -> CircuitRow | None:
        """The circuit as stored (through the cache unless `fresh`); ``None``: closed."""
        cached = self._cache.get(dependency)
        if not fresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            row = self._call(lambda c: _store().read(c, dependency))
        except Unavailable:
            return None
        return self._remember(dependency, row)

    # ------------------------------------------------------------------ verdicts

    def admit(self, dependency: str, run: Any) -> Admission:
        """May the run `run` (its id) call `dependency` now? A closed circuit answers from
        the cache, with `CALL` itself."""
        row = self.state(dependency)
        if row is None or row.state != "open":
            return CALL
        now, run_id = utcnow(), str(run)
        if not row.half_open(now):
            return Admission("wait", row, row.open_until)
        if row.probe_run_id == run_id and row.probe_until is not None and row.probe_until > now:
            return Admission("probe", row)
        timeout = self.limits(dependency).probe_timeout_seconds
        try:
            claimed = self._call(lambda c: _store().claim_probe(c, dependency, run_id, now, timeout))
        except Unavailable:
            return CALL
        self._cache.pop(dependency, None)
        if claimed:
            logger.info("failtrack: circuit of %r half-open; run %s probes it", dependency, run_id)
            return Admission("probe", row)
        fresh = self.state(dependency, fresh=True)
        if fresh is None or not fresh.is_open():
            return CALL
        return Admission("wait", fresh, self.next_look(fresh, now))

    def next_look(self, row: CircuitRow, now: datetime) -> datetime:
        """When a run that may not call should ask again: the half-open time, or (half-open,
        another run probing) a quarter of the open time, within the probe's deadline."""
        if row.open_until is not None and row.open_until > now:
            return row.open_until
        recheck = now + timedelta(seconds=self.limits(row.dependency).recheck_seconds)
        if row.probe_until is not None and now < row.probe_until < recheck:
            return row.probe_until
        return recheck

    def failed(
        self, dependency: str, run_id: str, flow_run_id: str | None, error_type: str
    ) -> Recorded | None:
        """Count a TRANSIENT/TIMEOUT failure; open (and announce) the circuit when it is due."""
        limits, now = self.limits(dependency), utcnow()
        try:
            recorded = self._call(lambda c: _store().record_failure(
                c, dependency, run_id, flow_run_id, error_type, now, limits
            ))
        except Unavailable:
            return None
        self._remember(dependency, recorded.circuit)
        if recorded.opened:
            from .events import circuit_opened

            logger.warning(
                "failtrack: circuit of %r opened: %d run(s) failed within %.0f s; calls wait "
                "until %s", dependency, recorded.circuit.failures, limits.window_seconds,
                f"{recorded.circuit.open_until:%H:%M:%S} UTC",
            )
            circuit_opened(recorded.circuit, limits)
        return recorded

    def succeeded(self, dependency: str, run_id: str | None) -> bool:
        """A run that called `dependency` succeeded: close its half-open circuit (`run_id`
        ``None``: close it whatever its state). ``True`` if this closed it."""
        now = utcnow()
        try:
            closed = self._call(lambda c: _store().close(c, dependency, run_id, now))
        except Unavailable:
            return False
        self._cache.pop(dependency, None)
        if closed:
            from .events import circuit_closed

            logger.warning("failtrack: circuit of %r closed", dependency)
            row = self.state(dependency, fresh=True)
            limits = self.limits(dependency)
            if row is not None:
                circuit_closed(row, limits)
            if limits.requeue_on_close:
                from .requeue import requeue_in_background

                requeue_in_background(dependency)
        return closed

    def release(self, dependency: str, run_id: str) -> None:
        """Give back a probe that ended without telling whether the dependency works."""
        now = utcnow()
        try:
            if self._call(lambda c: _store().release_probe(c, dependency, run_id, now)):
                self._cache.pop(dependency, None)
        except Unavailable:
            pass


def _store() -> Any:
    from . import circuit_store

    return circuit_store


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""


_breaker: Breaker | None = None
_capture_settings: Callable[[], FailtrackSettings] | None = None
_breaker_lock = threading.Lock()


def get_breaker() -> Breaker:
    """This process's breaker, for the settings capture reads (`capture.rows.settings`)."""
    global _breaker, _capture_settings
    if _capture_settings is None:
        from ..capture.rows import settings as capture_settings

        _capture_settings = capture_settings
    settings = _capture_settings()
    breaker = _breaker
    if breaker is None or breaker.settings is not settings:
        with _breaker_lock:
            if _breaker is None or _breaker.settings is not settings:
                _breaker = Breaker(settings)
            breaker = _breaker
    return breaker


__all__ = ["Admission", "Breaker", "get_breaker"]
