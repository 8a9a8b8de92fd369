"""Shared test setup: failtrack's home in a temporary folder for the whole session.

Each pytest-xdist worker gets a home of its own (spool, default SQLite file): the workers
inherit the controller's environment, and two recorders sharing one spool would replay
each other's rows.
"""

from __future__ import annotations

import os
import tempfile

_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
_HOME = tempfile.mkdtemp(prefix=f"failtrack-tests-{_WORKER or 'main'}-")
if _WORKER:
    os.environ["PREFECT_INTEGRATIONS_FAILTRACK_HOME"] = _HOME
else:
    os.environ.setdefault("PREFECT_INTEGRATIONS_FAILTRACK_HOME", _HOME)
# No network here beyond package registries: the test server's telemetry would only time out.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

