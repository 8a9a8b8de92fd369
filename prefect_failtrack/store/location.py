"""Where the audit trail goes: the database URL, from the settings, the block or the default.

Light on purpose (no SQLAlchemy): the recorder's writer thread resolves the URL, and the
configuration block is only asked when a Prefect API is configured
(`prefect_failtrack.config.load_config`).
"""

from __future__ import annotations

from prefect_failtrack.settings import FailtrackSettings, get_settings


def resolve_database_url(settings: FailtrackSettings | None = None) -> str:
    """The audit database URL: the setting, else the configuration block's, else a default file."""
    settings = settings or get_settings()
    return (
        settings.database_url
        or url_from_block(settings.config_block)
        or settings.default_database_url()
    )


def url_from_block(name: str | None = None) -> str | None:
    """The database URL of the FailtrackConfig block document, when such a block exists.

    The document is `name`, else the one the ``config_block`` setting names. Only asked
    when a Prefect API is configured, at most once per process, within a few seconds;
    ``None`` on any problem, never an error (`prefect_failtrack.config.load_config`).
    """
    from prefect_failtrack.config import config_database_url

    try:
        return config_database_url(name)
    except Exception:  # config_database_url does not raise; this guards the store anyway
        return None
