"""A tracked flow served as a deployment, for the requeue tests: ``python requeue_served.py``.

``flow.serve`` creates the deployment ``requeue-pull/served`` and runs its flow runs in
processes of their own; settings (database, circuit) come from the environment.
"""

from __future__ import annotations

import httpx

from prefect_failtrack import ErrorType, RetryPolicy, tracked_flow, tracked_task

ONE_RETRY = RetryPolicy.default().override(ErrorType.TRANSIENT, max_retries=1, initial_delay=0,
                                           jitter=0)  # fmt: skip


@tracked_task(policy=ONE_RETRY, dependency=lambda parameters: parameters["url"])
def fetch(day: str, url: str) -> str:
    httpx.get(f"{url}/days/{day}", timeout=5).raise_for_status()
    return day


@tracked_flow(name="requeue-pull")
def requeue_pull(day: str, url: str) -> str:
    return fetch(day, url)


if __name__ == "__main__":
    requeue_pull.serve(name="served", limit=6)
