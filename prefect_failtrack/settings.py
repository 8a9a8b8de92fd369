"""Settings, following Prefect's convention for integrations: ``PREFECT_INTEGRATIONS_FAILTRACK_*``.

Examples:
    ``PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL=postgresql+psycopg://user@db/audit``
    ``PREFECT_INTEGRATIONS_FAILTRACK_MESSAGE_LIMIT=4000``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from prefect.settings import get_current_settings
from prefect.settings.base import PrefectBaseSettings, build_settings_config
from prefect.logging import get_logger
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import NoDecode

from .resilience.circuit_settings import CircuitSettings, Distinct

logger = get_logger("prefect_failtrack.settings")
PREFIX = "PREFECT_INTEGRATIONS_FAILTRACK_"


def default_home() -> Path:
    """``$PREFECT_HOME/failtrack`` (``~/.prefect/failtrack`` unless Prefect's home is moved)."""
    return Path(get_current_settings().home).expanduser() / "failtrack"


class FailtrackSettings(PrefectBaseSettings):
    """Settings for prefect-failtrack; each is also an environment variable."""

    model_config = build_settings_config(("integrations", "failtrack"))

    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the audit database. Unset: the configuration block's URL, "
            "else SQLite at $PREFECT_HOME/failtrack/failtrack.db."
        ),
    )
    home: Path | None = Field(
        default=None,
        description="Folder for the default SQLite database and the spool. Unset: $PREFECT_HOME/failtrack.",
    )
    config_block: str = Field(
        default="default",
        description="Name of the FailtrackConfig block document to load settings from, if it exists.",
    )
    enabled: bool = Field(default=True, description="Record transitions at all.")
    transport: Literal["database", "events"] = Field(
        default="database",
        description=(
            "How tracked runs send their rows: 'database' writes them to the audit database; "
            "'events' sends them as Prefect events, stored by `failtrack collect` (workers "
            "then need no database URL)."
        ),
    )
    collector_name: str = Field(
        default="default",
        description=(
            "Name under which `failtrack collect` keeps its position in the event stream "
            "(one per collector sharing an audit database)."
        ),
    )
    collector_observe: bool = Field(
        default=False,
        description=(
            "`failtrack collect` also records every flow and task run from Prefect's own "
            "state events, decorated or not (capture 'observed')."
        ),
    )
    collector_catch_up: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description=(
            "Seconds back a collector without a position (or far behind) catches up from "
            "Prefect's events API when it starts; Prefect keeps events 7 days by default."
        ),
    )
    collector_overlap: float = Field(
        default=120.0,
        ge=0,
        description=(
            "Seconds before its stored position a restarted collector reads again (events "
            "from clocks a little behind); what it reads twice is stored once."
        ),
    )
    publish_delay: float = Field(
        default=2.0,
        ge=0,
        description=(
            "Seconds the collector waits after a failed flow run's final row before it "
            "publishes its failure summary (task rows still in flight land first)."
        ),
    )
    message_limit: int = Field(default=2000, ge=100, description="Characters kept of a message.")
    stack_limit: int = Field(default=2000, ge=100, description="Characters kept of a stack trace.")
    message_timeout: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Seconds failtrack waits for str() of an exception whose class defines its own "
            "__str__ (computed once per failure, in a helper thread); past it the message is "
            "stored as not available and the run goes on."
        ),
    )
    batch_size: int = Field(default=500, ge=1, description="Rows the recorder writes in one batch.")
    flush_interval: float = Field(
        default=0.5, gt=0, description="Seconds the recorder waits to fill a batch."
    )
    queue_size: int = Field(
        default=10_000,
        ge=1,
        description=(
            "Rows held in memory before the spool takes them (a few kB each: with the "
            "default, memory stays under 50 MB however far behind the database is)."
        ),
    )
    quiet_hooks: bool = Field(
        default=True,
        description=(
            "Leave out Prefect's 'Running hook ...' / 'Hook ... finished' INFO lines for "
            "failtrack's own hooks (four per successful task run)."
        ),
    )
    redaction_patterns: list[str] = Field(
        default_factory=list, description="Extra regular expressions whose matches are redacted."
    )
    # Heartbeats of running runs, and the limits that read them (`prefect_failtrack.liveness`).
    heartbeat_interval: float = Field(
        default=30.0,
        ge=0,
        description=(
            "Seconds between a process's heartbeats for its running tracked runs (one small "
            "write per interval, however many runs it holds); 0 turns heartbeats off."
        ),
    )
    heartbeat_stale_after: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds without a heartbeat after which a running run is stuck (never less "
            "than two of its process's intervals)."
        ),
    )
    heartbeat_lost_after: float = Field(
        default=1800.0,
        gt=0,
        description=(
            "Seconds without a heartbeat after which a running run is lost, wherever its "
            "process ran (sooner when this machine sees that the process is gone)."
        ),
    )
    # The circuit breaker per dependency (`prefect_failtrack.resilience`). Unset values come
    # from the FailtrackConfig block's ``circuits``, else the defaults shown.
    circuit_enabled: bool = Field(
        default=True, description="The circuit breaker's off switch (dependencies are still named)."
    )
    circuit_threshold: int = Field(
        default=3, ge=1,
        description="Distinct runs failing TRANSIENT or TIMEOUT on a dependency, within the "
        "window, that open its circuit.",
    )
    circuit_window: float = Field(
        default=60.0, gt=0, description="Seconds within which failures count towards the threshold."
    )
    circuit_open_seconds: float = Field(
        default=30.0, gt=0, description="Seconds a circuit stays open before one probe may call."
    )
    circuit_probe_timeout: float = Field(
        default=60.0, gt=0,
        description="Seconds after which a probe not heard of is given to the next run that asks.",
    )
    circuit_max_wait: float = Field(
        default=600.0, ge=0,
        description="Longest a task run waits on open circuits (from its first wait), in seconds; "
        "past it, the run fails fast as DEPENDENCY.",
    )
    circuit_waits: int = Field(
        default=10, ge=0,
        description="Circuit waits a task run may take (each is one of Prefect's retries: a "
        "tracked task's default retries are its class budget plus these).",
    )
    circuit_distinct: Distinct = Field(
        default="flow_run",
        description="What the threshold counts: distinct flow_run (default) or task_run.",
    )
    circuit_cache_seconds: float = Field(
        default=1.0, ge=0, description="How long a process trusts a circuit state it has read."
    )
    # NoDecode: the environment's text reaches the validator below, so that text that is not
    # JSON fails validation (tolerant_settings then falls back) instead of failing the source.
    circuits: Annotated[dict[str, CircuitSettings], NoDecode] = Field(
        default_factory=dict,
        description='Per dependency, what differs, as JSON: {"warehouse": {"threshold": 10}}.',
    )
    requeue_on_close: bool = Field(
        default=False,
        description="When a circuit closes, requeue the dead letters of its dependency.",
    )

    @field_validator("circuits", mode="before")
    @classmethod
    def _circuits_json(cls, value: Any) -> Any:
        if isinstance(value, str | bytes):
            try:
                return json.loads(value or "{}")
            except ValueError as error:
                raise ValueError(f"not JSON ({error})") from None
        return value

    def resolved_home(self) -> Path:
        return (self.home or default_home()).expanduser()

    def default_database_url(self) -> str:
        return f"sqlite:///{self.resolved_home() / 'failtrack.db'}"

    def spool_path(self) -> Path:
        return self.resolved_home() / "spool.jsonl"


def get_settings() -> FailtrackSettings:
    """Settings as the environment says now. failtrack's hooks read them once per process
    (`prefect_failtrack.capture.rows.settings`), the recorder when it starts: a change
    takes effect in the next process."""
    return FailtrackSettings()


def tolerant_settings() -> FailtrackSettings:
    """`get_settings` for code that runs inside flows: it never raises. A setting that does
    not validate falls back to its default, with a warning; the valid ones still count."""
    try:
        return FailtrackSettings()
    except ValidationError as error:
        bad = {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
        fields = FailtrackSettings.model_fields
        defaults = {n: fields[n].get_default(call_default_factory=True) for n in bad & set(fields)}
        logger.warning(
            "failtrack settings that do not validate fall back to their defaults: %s (%s)",
            ", ".join(f"{PREFIX}{n.upper()}" for n in sorted(bad)),
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()),
        )
        try:
            return FailtrackSettings(**defaults)
        except Exception:
            return FailtrackSettings.model_construct()
