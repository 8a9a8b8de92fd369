"""Prefect's lines around failtrack's own hook calls are left out; nothing else is."""

from __future__ import annotations

import logging

import pytest
from prefect._internal.engine import get_hook_name

from prefect_failtrack import task_options
from prefect_failtrack.capture import hooklog
from prefect_failtrack.capture.hooklog import QuietFailtrackHooks, named_hook, quiet_hook_lines


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("prefect.task_runs", level, __file__, 1, message, None, None)


@pytest.fixture
def no_filters():
    def strip() -> None:
        for name in hooklog.LOGGERS:
            target = logging.getLogger(name)
            for f in [f for f in target.filters if isinstance(f, QuietFailtrackHooks)]:
                target.removeFilter(f)

    strip()
    yield
    strip()
    quiet_hook_lines()  # as the rest of the session had it


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("Running hook 'failtrack_on_task_running' in response to entering state 'Running'", False),
        ("Hook 'failtrack_on_task_completion' finished running successfully", False),
        ("Running hook 'my_hook' in response to entering state 'Running'", True),
        ("Hook 'on_task_running' finished running successfully", True),  # a user's own
        ("Finished in state Completed()", True),
        ("failtrack: load — TRANSIENT (http 503) — retry in 2.0 s (TRANSIENT budget 1/3)", True),
    ],
)
def test_only_the_lines_around_failtrack_hooks_are_dropped(message, kept) -> None:
    assert QuietFailtrackHooks().filter(record(message)) is kept


def test_a_failing_hook_is_still_reported() -> None:
    error = record("An error was encountered while running hook 'failtrack_on_task_running'",
                   logging.ERROR)
    assert QuietFailtrackHooks().filter(error)


def test_hooks_carry_distinctive_names_and_call_through() -> None:
    calls = []

    class Owner:
        def on_task_running(self, *args):
            calls.append(args)

    hook = named_hook(Owner().on_task_running, "on_task_running")
    hook(1, 2, 3)
    assert calls == [(1, 2, 3)]
    assert get_hook_name(hook) == "failtrack_on_task_running"
    options = task_options()
    assert [get_hook_name(h) for h in options["on_running"]] == ["failtrack_on_task_running"]
    assert [get_hook_name(h) for h in options["on_failure"]] == ["failtrack_on_task_failure"]
    assert "on_completion" not in options  # Completed is noticed without a hook (capture.watch)


def test_the_filter_goes_on_once_and_only_when_asked(no_filters, monkeypatch) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_QUIET_HOOKS", "false")
    task_options()
    assert not any(isinstance(f, QuietFailtrackHooks)
                   for f in logging.getLogger("prefect.task_runs").filters)

    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_QUIET_HOOKS", "true")
    task_options()
    task_options()
    for name in hooklog.LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, QuietFailtrackHooks) for f in filters) == 1


def test_the_runners_lines_formatted_with_arguments_are_left_out_too() -> None:
    """prefect/runner/_hook_runner.py logs ``"Running hook %r in response to entering state
    %r"`` with arguments, where the engines use f-strings."""
    quiet = QuietFailtrackHooks()

    def record(msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("prefect.flow_runs", logging.INFO, __file__, 1, msg, args, None)

    assert not quiet.filter(record("Running hook %r in response to entering state %r",
                                   "failtrack_on_flow_end", "Crashed"))
    assert not quiet.filter(record("Hook %r finished running successfully", "failtrack_on_flow_end"))
    assert quiet.filter(record("Running hook %r in response to entering state %r",
                               "notify_team", "Crashed"))
