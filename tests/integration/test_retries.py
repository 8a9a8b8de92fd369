"""The class drives Prefect's own retries: real flows under the test harness.

Each task counts its own attempts, so that the number of runs is observed, not
inferred; final states come from Prefect (``return_state=True``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest
import respx
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.futures import wait
from prefect.states import StateType

from prefect_failtrack import (
    ErrorType,
    InvalidInput,
    PermanentError,
    RetryPolicy,
    TransientError,
    task_options,
    tracked_flow,
    tracked_task,
)
from prefect_failtrack.classification import TypeRule

# No waiting between retries in tests, except where the delay is the point.
FAST = (
    RetryPolicy.default()
    .override(ErrorType.TRANSIENT, initial_delay=0, jitter=0)
    .override(ErrorType.TIMEOUT, initial_delay=0, jitter=0)
)

attempts: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def fresh_attempts() -> None:
    attempts.clear()


def fail_times(key: str, times: int, exc: BaseException) -> str:
    attempts[key] += 1
    if attempts[key] <= times:
        raise exc
    return "ok"


def test_transient_twice_then_success_completes_after_three_runs() -> None:
    @tracked_task(policy=FAST)
    def flaky() -> str:
        return fail_times("flaky", 2, ConnectionResetError(104, "Connection reset by peer"))

    @flow
    def pipeline():
        return flaky(return_state=True).name

    assert pipeline() == "Completed"
    assert attempts["flaky"] == 3


@pytest.mark.parametrize(
    "exc", [PermanentError("wrong password"), InvalidInput("bad date"), KeyError("column")]
)
def test_permanent_and_validation_run_once(exc: BaseException) -> None:
    @tracked_task(policy=FAST)
    def doomed() -> str:
        return fail_times("doomed", 99, exc)

    @flow
    def pipeline():
        return doomed(return_state=True).name

    assert pipeline() == "Failed"
    assert attempts["doomed"] == 1


def test_task_timeout_is_retried_per_timeout_budget() -> None:
    policy = FAST.override(ErrorType.TIMEOUT, max_retries=2)

    @tracked_task(policy=policy, timeout_seconds=0.3)
    def slow() -> None:
        attempts["slow"] += 1
        time.sleep(3)

    @flow
    def pipeline():
        return slow(return_state=True).name

    assert pipeline() == "TimedOut"
    assert attempts["slow"] == 3  # one run + TIMEOUT budget of 2


def test_budgets_are_per_class_across_attempts() -> None:
    """A TRANSIENT failure is retried; the PERMANENT one that follows stops retrying."""
    sequence = [TransientError("throttled"), PermanentError("gone"), TransientError("never seen")]

    @tracked_task(policy=FAST)
    def mixed() -> None:
        attempts["mixed"] += 1
        raise sequence[attempts["mixed"] - 1]

    @flow
    def pipeline():
        return mixed(return_state=True).name

    assert pipeline() == "Failed"
    assert attempts["mixed"] == 2


def test_transient_budget_exhausts() -> None:
    policy = FAST.override(ErrorType.TRANSIENT, max_retries=2)

    @tracked_task(policy=policy)
    def always_down() -> None:
        fail_times("down", 99, TransientError("503"))

    @flow
    def pipeline():
        return always_down(return_state=True).name

    assert pipeline() == "Failed"
    assert attempts["down"] == 3


def test_retry_after_429_schedules_awaiting_retry_about_seven_seconds_later() -> None:
    with respx.mock(assert_all_called=False) as api:
        api.route(host="127.0.0.1").pass_through()  # Prefect's own API (the test harness)
        route = api.get("https://api.example.com/rows").mock(
            side_effect=[
                httpx.Response(429, headers={"Retry-After": "7"}),
                httpx.Response(200, json=[{"id": 1}]),
            ]
        )

        @tracked_task(policy=FAST)
        def fetch() -> list[dict]:
            response = httpx.get("https://api.example.com/rows")
            response.raise_for_status()
            return response.json()

        @flow
        def pipeline():
            state = fetch(return_state=True)
            return state.name, state.state_details.task_run_id

        started = time.monotonic()
        final, task_run_id = pipeline()
        waited = time.monotonic() - started

    assert final == "Completed"
    assert route.call_count == 2
    assert waited >= 6.5  # Prefect really waited for the scheduled time
    awaiting = wait_for_state(task_run_id, "AwaitingRetry")
    delay = (awaiting.state_details.scheduled_time - awaiting.timestamp).total_seconds()
    assert delay == pytest.approx(7, abs=0.5)


def wait_for_state(task_run_id, name: str, timeout: float = 20):
    """Task run states reach the API through events; poll until the one we want is in."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            states = client.read_task_run_states(task_run_id)
            found = [s for s in states if s.name == name]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name!r} state in {[s.name for s in states]}")
            time.sleep(0.25)


def test_async_task_is_retried_by_class() -> None:
    @tracked_task(policy=FAST)
    async def flaky_async() -> str:
        await asyncio.sleep(0)
        return fail_times("async", 1, TimeoutError("read timed out"))

    @flow
    async def pipeline():
        return (await flaky_async(return_state=True)).name

    assert asyncio.run(pipeline()) == "Completed"
    assert attempts["async"] == 2


def test_mapped_and_submitted_tasks_each_follow_their_class() -> None:
    @tracked_task(policy=FAST)
    def per_item(item: str) -> str:
        errors = {"a": ConnectionResetError("reset"), "b": ValueError("bad row"), "c": None}
        error = errors[item]
        attempts[item] += 1
        if error is not None and attempts[item] == 1:
            raise error
        return item

    @flow
    def pipeline():
        futures = per_item.map(["a", "b", "c"])
        submitted = per_item.submit("c")
        wait([*futures, submitted])
        return [f.state.name for f in [*futures, submitted]]

    a, b, c, c2 = pipeline()
    assert a == "Completed" and attempts["a"] == 2  # TRANSIENT: retried
    assert b == "Failed" and attempts["b"] == 1  # VALIDATION: not retried
    assert c == c2 == "Completed"


def test_user_hooks_and_retry_condition_compose_with_ours() -> None:
    seen: list[str] = []

    def my_failure_hook(task, task_run, state) -> None:
        seen.append(f"failure:{state.name}")

    def my_running_hook(task, task_run, state) -> None:
        seen.append(f"running:{state.name}")

    def only_once(task, task_run, state) -> bool:
        return task_run.run_count < 2  # the user's own condition may veto a retry

    @tracked_task(
        policy=FAST, on_failure=[my_failure_hook], on_running=[my_running_hook],
        retry_condition_fn=only_once,
    )
    def flaky() -> None:
        fail_times("composed", 99, TransientError("still down"))

    @flow
    def pipeline():
        return flaky(return_state=True).name

    assert pipeline() == "Failed"
    assert attempts["composed"] == 2  # the policy allows 3 retries; the user's condition stopped it
    assert seen == ["running:Running", "running:Retrying", "failure:Failed"]


def test_user_rules_per_decorator_run_before_builtins() -> None:
    class QuotaError(Exception):
        pass

    @tracked_task(policy=FAST, rules=[TypeRule({QuotaError: ErrorType.TRANSIENT})])
    def quota() -> str:
        return fail_times("quota", 1, QuotaError("daily quota"))

    @flow
    def pipeline():
        return quota(return_state=True).name

    assert pipeline() == "Completed"
    assert attempts["quota"] == 2


def test_plain_task_gets_the_same_behaviour_from_task_options() -> None:
    @task(**task_options(policy=FAST))
    def plain() -> str:
        return fail_times("plain", 1, ConnectionResetError("reset"))

    @task(**task_options(policy=FAST))
    def plain_doomed() -> str:
        return fail_times("plain_doomed", 9, PermissionError("denied"))

    @flow
    def pipeline():
        return plain(return_state=True).name, plain_doomed(return_state=True).name

    ok, doomed = pipeline()
    assert ok == "Completed" and attempts["plain"] == 2
    assert doomed == "Failed" and attempts["plain_doomed"] == 1


def test_tracked_flow_retries_follow_the_class() -> None:
    @tracked_flow(policy=FAST, retries=3)
    def transient_flow() -> str:
        return fail_times("transient_flow", 1, ConnectionResetError("reset"))

    @tracked_flow(policy=FAST, retries=3)
    def permanent_flow() -> str:
        return fail_times("permanent_flow", 9, PermanentError("no such table"))

    assert transient_flow(return_state=True).is_completed()
    assert attempts["transient_flow"] == 2
    assert permanent_flow(return_state=True).is_failed()
    assert attempts["permanent_flow"] == 1  # Prefect alone would have run it 4 times


def test_flow_retry_delay_comes_from_the_policy() -> None:
    policy = FAST.override(ErrorType.TRANSIENT, initial_delay=2, jitter=0)

    @tracked_flow(policy=policy, retries=1)
    def slow_retry() -> str:
        return fail_times("slow_retry", 1, ConnectionResetError("reset"))

    state = slow_retry(return_state=True)
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        states = client.read_flow_run_states(state.state_details.flow_run_id)
    awaiting = next(s for s in states if s.name == "AwaitingRetry")
    delay = awaiting.state_details.scheduled_time - awaiting.timestamp
    assert timedelta(seconds=1.5) <= delay <= timedelta(seconds=2.5)


def test_final_state_type_is_what_prefect_says() -> None:
    """failtrack never changes the outcome: a failing task still fails the flow the same way."""

    @tracked_task(policy=FAST)
    def boom() -> None:
        raise PermanentError("boom")

    @flow
    def with_failtrack():
        boom()

    state = with_failtrack(return_state=True)
    assert state.type == StateType.FAILED
    with pytest.raises(PermanentError, match="boom"):
        state.result()
