"""The event transport's sink: the recorder's batches posted to Prefect's events API.

`EventRecorder` is the recorder (`prefect_failtrack.store.recorder.Recorder`: bounded
queue, writer thread, spool, never blocking or failing a run) with another sink: a batch
of rows becomes a batch of events (`envelope`), posted in one request to Prefect's
``POST /events`` (``prefect/server/api/events.py``, ``create_events``) with the process's
own Prefect client: its API URL, its key or auth string.

Why the events API and not ``emit_event``: ``emit_event`` hands an event to Prefect's
``EventsWorker``, a queue whose websocket client drops what it cannot send after its
reconnection attempts (``prefect/events/clients.py``, ``PrefectEventsClient._emit``) and
tells its caller nothing. The recorder must know whether a batch arrived, to spool
what did not; ``POST /events`` answers once the server has taken the events (204). A
failed request is an outage: the batch goes to the spool and is posted again when the
API answers (`_reachable`: ``GET /health``).

The writer thread makes its client in the Prefect settings of the thread that made the
recorder (the settings context, which a new thread does not inherit: the test harness's
API URL lives there).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from prefect.logging import get_logger

from ..store import spool
from ..store.recorder import Recorder
from .envelope import TooLarge, to_event

logger = get_logger("prefect_failtrack.transport")

EVENTS_PER_REQUEST = 500
"""Events posted in one request (a few MB at most: rows are a few kB)."""
REQUEST_TIMEOUT_S = 10.0


class EventRecorder(Recorder):
    """A recorder whose batches go to Prefect's events API, not to a database."""

    def __init__(self, *, spool_path: Any, **options: Any) -> None:
        from prefect.context import SettingsContext

        self._settings_context = SettingsContext.get()
        settings = self._settings_context.settings if self._settings_context else None
        self._api_url = str(settings.api.url) if settings is not None and settings.api.url else None
        self._client: Any = None
        self._client_lock = threading.Lock()
        super().__init__("events", spool_path=spool_path, **options)

    @property
    def url(self) -> str:
        return "events"

    # -- what a database recorder reads back: nothing here ------------------------------

    def view(self, flow_run_id: str, timeout: float = 5.0) -> None:
        """No store to read from: the collector derives the flow run's view."""
        self.flush(timeout)
        return None

    def spent(self, run_id: str) -> None:
        return None

    # -- the sink ------------------------------------------------------------------------

    def _store(self, batch: Sequence[spool.Entry]) -> bool:
        events = []
        refused: list[BaseException] = []
        for kind, row in batch:
            try:
                events.append(to_event(kind, row))
            except (TooLarge, ValueError, TypeError) as exc:
                refused.append(exc)
        if refused:
            self._count("rejected", len(refused))
            logger.warning(
                "failtrack could not make %d row(s) into events; they are not kept. "
                "First error: %s",
                len(refused),
                refused[0],
            )
        def post_all() -> None:
            for first in range(0, len(events), EVENTS_PER_REQUEST):
                self._post(events[first : first + EVENTS_PER_REQUEST])

        return self._answered(post_all)

    def _post(self, events: list[Any]) -> None:
        body = [event.model_dump(mode="json") for event in events]
        response = self._api().request("POST", "/events", json=body)
        response.raise_for_status()

    def _reachable(self) -> bool:
        return self._answered(lambda: self._api().request("GET", "/health").raise_for_status())

    def _answered(self, call: Callable[[], Any]) -> bool:
        """Whether `call` to Prefect's API went through; the outage begun or ended with it."""
        try:
            call()
        except Exception as exc:
            self._forget_client()
            self._outage(exc)
            return False
        self._back_up()
        return True

    def _api(self) -> Any:
        """The writer thread's Prefect client, made in the recorder's maker's settings."""
        with self._client_lock:
            if self._client is None:
                from prefect.client.orchestration import get_client
                from prefect.context import SettingsContext

                captured = self._settings_context
                if captured is not None:
                    with SettingsContext(profile=captured.profile, settings=captured.settings):
                        client = get_client(
                            httpx_settings={"timeout": REQUEST_TIMEOUT_S}, sync_client=True
                        )
                else:
                    client = get_client(
                        httpx_settings={"timeout": REQUEST_TIMEOUT_S}, sync_client=True
                    )
                client.__enter__()
                self._client = client
            return self._client

    def _forget_client(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.__exit__(None, None, None)
            except Exception:
                pass

    def _where(self) -> str:
        return f"Prefect's events API ({self._api_url or 'PREFECT_API_URL unset'})"

    def close(self, timeout: float = 5.0) -> None:
        super().close(timeout)
        self._forget_client()


__all__ = ["EVENTS_PER_REQUEST", "EventRecorder"]
