"""Task runners that run tasks in other processes, one cluster per package (they are slow to
start), and an audit database that every worker process is pointed at before it starts.

Worker processes read failtrack's settings from their environment once (a long-lived Dask
or Ray worker keeps its recorder across flow runs): the database URL and ``PYTHONPATH``
(the workload is imported by name there) are set before any worker process starts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from prefect_failtrack.capture import rows
from prefect_failtrack.store.recorder import reset_recorder
from tests.integration.conftest import use_database

ROOT = str(Path(__file__).resolve().parents[3])
DATABASE_URL = "PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL"
RUNNERS = ("threads", "processes", "dask", "ray")


@pytest.fixture(scope="package")
def runner_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite audit database for these tests, in the environment every worker inherits."""
    url = f"sqlite:///{tmp_path_factory.mktemp('runners') / 'failtrack.db'}"
    saved = {name: os.environ.get(name) for name in (DATABASE_URL, "PYTHONPATH")}
    use_database(url)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, saved["PYTHONPATH"]]))
    yield url
    reset_recorder()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    rows.settings.cache_clear()


@pytest.fixture(scope="package")
def dask_address(runner_db: str) -> Iterator[str]:
    """A local Dask cluster of two worker processes."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.WARNING,
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="package")
def ray_started(runner_db: str) -> Iterator[None]:
    """A local Ray instance: `RayTaskRunner` uses it rather than starting its own."""
    ray = pytest.importorskip("ray")
    env = {name: os.environ[name] for name in (DATABASE_URL, "PYTHONPATH")}
    env["PREFECT_INTEGRATIONS_FAILTRACK_HOME"] = os.environ["PREFECT_INTEGRATIONS_FAILTRACK_HOME"]
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
        runtime_env={"env_vars": env},
        namespace="prefect",
    )
    yield
    ray.shutdown()


@pytest.fixture(scope="package")
def task_runner(request: pytest.FixtureRequest, runner_db: str) -> Callable[[str], Any]:
    """A task runner by name (its cluster started on first use, once)."""

    def make(name: str) -> Any:
        if name == "threads":
            return ThreadPoolTaskRunner(max_workers=4)
        if name == "processes":
            return ProcessPoolTaskRunner(max_workers=2)
        if name == "dask":
            from prefect_dask import DaskTaskRunner

            return DaskTaskRunner(address=request.getfixturevalue("dask_address"))
        if name == "ray":
            request.getfixturevalue("ray_started")
            from prefect_ray import RayTaskRunner

            return RayTaskRunner()
        raise ValueError(name)

    return make
