"""Shared test setup: failtrack's home in a temporary folder for the whole session."""

from __future__ import annotations

import os
import tempfile

_HOME = tempfile.mkdtemp(prefix="failtrack-tests-")
os.environ.setdefault("PREFECT_INTEGRATIONS_FAILTRACK_HOME", _HOME)
# No network here beyond package registries: the test server's telemetry would only time out.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
