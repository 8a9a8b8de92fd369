"""What this machine can tell of a process that beat once: real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from prefect_failtrack.liveness import identity
from prefect_failtrack.liveness.identity import process_state

LINUX = sys.platform.startswith("linux")


def described(pid: int, **changes: object) -> dict[str, object]:
    """The columns a process with `pid` would have written, on this machine."""
    me = identity.current()
    values: dict[str, object] = {
        "host": me.host,
        "pid": pid,
        "boot_id": me.boot_id,
        "pid_namespace": me.pid_namespace,
        "started": identity._started(pid),
    }
    return {**values, **changes}


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)


def test_this_process_is_alive_and_named_once() -> None:
    me = identity.current()
    assert me is identity.current() and me.pid == os.getpid() and len(me.key) == 32
    state, why = process_state(**described(os.getpid()))  # type: ignore[arg-type]
    assert state == "alive" and f"pid {os.getpid()}" in why


@pytest.mark.skipif(not LINUX, reason="process states come from /proc")
def test_a_stopped_process_then_a_running_one(sleeper: subprocess.Popen[bytes]) -> None:
    columns = described(sleeper.pid)
    os.kill(sleeper.pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 10
        while process_state(**columns)[0] != "stopped":  # type: ignore[arg-type]
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.kill(sleeper.pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while process_state(**columns)[0] != "alive":  # type: ignore[arg-type]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_killed_process_is_gone_zombie_or_reaped(sleeper: subprocess.Popen[bytes]) -> None:
    columns = described(sleeper.pid)
    sleeper.kill()
    deadline = time.monotonic() + 10
    while process_state(**columns)[0] != "gone":  # type: ignore[arg-type]  # a zombie first
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sleeper.wait(timeout=10)
    state, why = process_state(**columns)  # type: ignore[arg-type]
    assert state == "gone" and why.endswith("is gone")


@pytest.mark.skipif(not LINUX, reason="start times come from /proc")
def test_a_pid_held_by_another_process_is_gone() -> None:
    state, why = process_state(**described(os.getpid(), started=12345))  # type: ignore[arg-type]
    assert state == "gone" and "belongs to another process" in why


def test_a_reboot_since_means_gone() -> None:
    if identity.current().boot_id is None:
        pytest.skip("no boot id on this system")
    state, why = process_state(**described(os.getpid(), boot_id="another-boot"))  # type: ignore[arg-type]
    assert state == "gone" and "rebooted" in why


def test_another_machine_or_pid_namespace_cannot_be_checked() -> None:
    assert process_state(**described(1, host="elsewhere"))[0] == "unknown"  # type: ignore[arg-type]
    assert process_state(**described(1, pid_namespace="pid:[1]"))[0] == "unknown"  # type: ignore[arg-type]
