"""Which process this is, and whether a process that beat once is still there.

A process is named by a random key and described by what lets another process on the
same machine check on it: host name, pid, the kernel's boot id, the pid namespace and
the process's start time (Linux ``/proc``; elsewhere only host and pid). A reader that
shares the machine, its boot and its pid namespace can tell:

- ``gone``: no such pid, a zombie, a pid now held by a process that started at another
  time, or the machine has rebooted since;
- ``stopped``: the process exists but is stopped (``SIGSTOP``, a debugger);
- ``alive``: it exists and runs.

Anywhere else the answer is ``unknown``, and only the age of the last beat speaks.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

ProcessState = Literal["alive", "stopped", "gone", "unknown"]


@dataclass(frozen=True)
class ProcessIdentity:
    key: str
    host: str
    pid: int
    boot_id: str | None
    pid_namespace: str | None
    process_started: int | None

    def columns(self) -> dict[str, object]:
        """The identity as the columns of ``failtrack_processes``."""
        return {
            "process_key": self.key,
            "host": self.host,
            "pid": self.pid,
            "boot_id": self.boot_id,
            "pid_namespace": self.pid_namespace,
            "process_started": self.process_started,
        }


@cache
def current() -> ProcessIdentity:
    """This process (a forked child gets its own: `forget` runs in it)."""
    pid = os.getpid()
    return ProcessIdentity(
        key=uuid.uuid4().hex,
        host=socket.gethostname(),
        pid=pid,
        boot_id=_read("/proc/sys/kernel/random/boot_id"),
        pid_namespace=_pid_namespace(),
        process_started=_started(pid),
    )


def forget() -> None:
    current.cache_clear()


os.register_at_fork(after_in_child=forget)


def process_state(
    host: str, pid: int, boot_id: str | None, pid_namespace: str | None, started: int | None
) -> tuple[ProcessState, str]:
    """What this machine can tell of the process described, and why, in a few words."""
    me = current()
    where = f"pid {pid} on {host}"
    if host != me.host:
        return "unknown", f"{where}: another machine, not checked from here"
    if boot_id and me.boot_id and boot_id != me.boot_id:
        return "gone", f"{where}: the machine has rebooted since"
    if pid_namespace != me.pid_namespace:
        return "unknown", f"{where}: another pid namespace, not checked from here"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone", f"{where} is gone"
    except PermissionError:
        pass  # it exists, owned by someone else
    except OSError:
        return "unknown", f"{where}: cannot be checked"
    stat = _stat(pid)
    if stat is None:
        return "alive", f"{where} exists"
    state, now_started = stat
    if started is not None and now_started is not None and now_started != started:
        return "gone", f"{where} is gone (the pid now belongs to another process)"
    if state in ("Z", "X", "x"):
        return "gone", f"{where} is gone (a zombie, not reaped yet)"
    if state in ("T", "t"):
        return "stopped", f"{where} is stopped"
    return "alive", f"{where} is alive"


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _stat(pid: int) -> tuple[str, int | None] | None:
    """``(state, start time in clock ticks after boot)`` from ``/proc/<pid>/stat``."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    fields = text.rsplit(")", 1)[-1].split()  # the name, in parentheses, may hold spaces
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return (fields[0] if fields else "?"), None


def _started(pid: int) -> int | None:
    stat = _stat(pid)
    return stat[1] if stat else None
