"""RetryPolicy as pure data and pure decisions (no Prefect, no database)."""

from __future__ import annotations

import inspect
import pickle
import random

import pytest
from prefect.flows import Flow
from prefect.tasks import Task, TaskOptions
from pydantic import ValidationError

from prefect_failtrack import Backoff, ErrorType, RetryPolicy, TransientError, classify, task_options
from prefect_failtrack.capture import FlowOptions
from prefect_failtrack.capture.bridge import ClassDelays, choose_delay, clear_delay


def decision(policy: RetryPolicy, exc: BaseException, **spent: int):
    return policy.decide(classify(exc), {ErrorType(k): v for k, v in spent.items()})


def test_defaults_retry_transient_and_timeout_only() -> None:
    policy = RetryPolicy.default()
    assert policy.classes[ErrorType.TRANSIENT].max_retries == 3
    assert policy.classes[ErrorType.TIMEOUT].max_retries == 1
    for kind in (ErrorType.PERMANENT, ErrorType.VALIDATION, ErrorType.DEPENDENCY, ErrorType.UNKNOWN):
        assert policy.classes[kind].max_retries == 0
    assert policy.total_budget == 4


def test_exponential_backoff_with_cap_and_no_jitter() -> None:
    backoff = Backoff(max_retries=5, initial_delay=1, factor=3, max_delay=20)
    assert [backoff.delay(n) for n in range(1, 5)] == [1, 3, 9, 20]


def test_jitter_stays_within_its_fraction() -> None:
    backoff = Backoff(max_retries=3, initial_delay=10, factor=1, max_delay=100, jitter=0.2)
    rng = random.Random(7)
    delays = [backoff.delay(1, rng) for _ in range(500)]
    assert min(delays) >= 8 and max(delays) <= 12
    assert len({round(d, 3) for d in delays}) > 100  # it really spreads


def test_decide_counts_the_budget_of_the_class() -> None:
    policy = RetryPolicy.default().override(ErrorType.TRANSIENT, jitter=0)
    first = decision(policy, TransientError("x"))
    assert (first.retry, first.attempt, first.delay) == (True, 1, 2.0)
    third = decision(policy, TransientError("x"), TRANSIENT=2)
    assert (third.retry, third.attempt, third.delay, third.retries_left) == (True, 3, 8.0, 0)
    spent = decision(policy, TransientError("x"), TRANSIENT=3)
    assert not spent.retry
    assert spent.message == "TRANSIENT (carried by the exception) — not retried: TRANSIENT budget spent (3/3)"


def test_budgets_of_other_classes_do_not_count() -> None:
    policy = RetryPolicy.default()
    assert decision(policy, TimeoutError("t"), TRANSIENT=3).retry
    assert not decision(policy, TimeoutError("t"), TIMEOUT=1).retry


def test_retry_after_replaces_the_computed_delay_within_the_cap() -> None:
    policy = RetryPolicy(retry_after_cap=30).override(ErrorType.TRANSIENT, jitter=0)
    assert decision(policy, TransientError("slow down", retry_after=7)).delay == 7
    assert decision(policy, TransientError("slow down", retry_after=3600)).delay == 30


def test_messages_read_like_the_ui_shows_them() -> None:
    policy = RetryPolicy.default().override(ErrorType.TRANSIENT, jitter=0)
    assert decision(policy, TransientError("x"), TRANSIENT=1).message == (
        "TRANSIENT (carried by the exception) — retry in 4.0 s (TRANSIENT budget 2/3)"
    )
    assert decision(policy, KeyError("k")).message == "PERMANENT (type KeyError) — not retried"


def test_policy_is_serialisable_data() -> None:
    policy = RetryPolicy.default().override("TRANSIENT", max_retries=5, initial_delay=0.5)
    again = RetryPolicy.model_validate_json(policy.model_dump_json())
    assert again == policy
    assert again.classes[ErrorType.TRANSIENT].max_retries == 5
    assert pickle.loads(pickle.dumps(policy)) == policy


def test_override_leaves_the_original_alone_and_validates() -> None:
    base = RetryPolicy.default()
    base.override(ErrorType.TIMEOUT, max_retries=4)
    assert base.classes[ErrorType.TIMEOUT].max_retries == 1
    with pytest.raises(ValidationError):
        base.override(ErrorType.TIMEOUT, max_retries=-1)
    with pytest.raises(ValidationError):
        base.override(ErrorType.TIMEOUT, retires=2)  # a typo is an error, not ignored
    with pytest.raises(ValueError):
        base.override("TRANSIENTT", max_retries=2)


def test_partial_class_table_gets_the_rest_not_retried() -> None:
    policy = RetryPolicy(classes={ErrorType.TRANSIENT: Backoff(max_retries=2)})
    assert set(policy.classes) == set(ErrorType)
    assert policy.classes[ErrorType.TIMEOUT].max_retries == 0


def test_never_retries_nothing() -> None:
    assert RetryPolicy.never().total_budget == 0


def test_class_delays_are_a_list_that_keeps_its_fallback() -> None:
    """The chosen delay is claimed by the task run it was chosen for (read inside its
    TaskRunContext: tests/integration/test_retries.py); elsewhere the fallback answers."""
    delays = ClassDelays(fallback=1.5)
    assert isinstance(delays, list) and len(delays) == 1  # what Task.__init__ accepts
    choose_delay("some-task-run", 7.0)
    assert delays[min(3, len(delays) - 1)] == 1.5  # no task run here to claim it
    clear_delay("some-task-run")
    assert pickle.loads(pickle.dumps(delays))[0] == 1.5


def test_task_options_survive_with_options() -> None:
    """Task.with_options re-validates retry_delay_seconds: ClassDelays must pass as a list."""
    t = Task(lambda: None, **task_options())
    again = t.with_options(retries=5)
    assert isinstance(again.retry_delay_seconds, ClassDelays)
    assert again.retries == 5
    assert inspect.isfunction(again.retry_condition_fn)  # task_engine.can_retry requires it


def test_flow_options_cover_every_flow_keyword() -> None:
    """FlowOptions mirrors Flow.__init__ (Prefect has no TypedDict for flows); keep them in step."""
    keywords = set(inspect.signature(Flow.__init__).parameters) - {"self", "fn"}
    assert set(FlowOptions.__annotations__) == keywords


def test_task_options_are_prefects_own() -> None:
    keywords = set(inspect.signature(Task.__init__).parameters) - {"self", "fn"}
    assert set(TaskOptions.__annotations__) == keywords
