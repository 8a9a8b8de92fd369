"""The spool: rows that could not reach the audit database, kept as JSON lines in a local file.

Each line is ``{"kind": "transition" | "summary", "row": {...}}`` with datetimes as ISO
strings. Writers append under an exclusive file lock; a replayer claims the whole file by
renaming it to ``<spool>.<pid>.<uuid>.replaying``, so several processes can share one spool.

An append is all or nothing: one that fails part-way (a full disk writes some bytes, then
raises ``ENOSPC``) is cut back off the file, so the entries it was writing are either all
there or all absent (and counted as dropped by the recorder); and an append starts on a
line of its own even after a torn last line (a process killed mid-write), so one torn
entry can never swallow the next.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect_failtrack.store.encoding import json_default

try:
    import fcntl
except ImportError:  # Windows: appends from one process at a time are still whole lines.
    fcntl = None  # type: ignore[assignment]

_encode = json.JSONEncoder(default=json_default, separators=(",", ":")).encode

Entry = tuple[str, dict[str, Any]]
"""``(kind, row)``: what the recorder queues, spools and replays."""


class Spool:
    """A JSON-lines file of entries waiting for the database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, entries: Iterable[Entry]) -> None:
        """Append entries as one write; raises ``OSError`` when the file cannot be written."""
        lines = [_encode({"kind": kind, "row": row}) + "\n" for kind, row in entries]
        self._append("".join(lines).encode("utf-8"))

    def give_back(self, claimed: Path) -> None:
        """Return a claimed file's entries to the spool, for whoever replays next."""
        data = claimed.read_bytes()
        if data and not data.endswith(b"\n"):  # a torn last line must not swallow the next
            data += b"\n"
        self._append(data)
        claimed.unlink()

    def _append(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    with _locked(fd):
                        # A replayer may have claimed the file between open and lock: start over.
                        if os.fstat(fd).st_ino != _inode(self.path):
                            continue
                        _append_whole(fd, data)
                        return
                finally:
                    os.close(fd)

    def exists(self) -> bool:
        return self.path.exists()

    def claim(self) -> Path | None:
        """Take the spool for replay by renaming it; ``None`` when there is none."""
        claimed = self._claim_name()
        try:
            os.replace(self.path, claimed)
        except (FileNotFoundError, NotADirectoryError):
            return None
        _wait_for_writers(claimed)
        return claimed

    def claim_orphans(self, older_than: float = 60.0) -> list[Path]:
        """Take over claims a dead (or stuck) process left more than ``older_than`` seconds ago."""
        claims = []
        for orphan in self.path.parent.glob(f"{self.path.name}.*.replaying"):
            try:
                if time.time() - orphan.stat().st_mtime < older_than:
                    continue
                claimed = self._claim_name()
                os.replace(orphan, claimed)
                os.utime(claimed)
            except FileNotFoundError:
                continue
            claims.append(claimed)
        return claims

    def _claim_name(self) -> Path:
        return self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.replaying")


def read(path: Path) -> Iterator[Entry]:
    """The entries of a spool file: torn or unreadable lines skipped, none if it is gone."""
    try:
        lines = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except FileNotFoundError:
        return
    with lines:
        for line in lines:
            try:
                entry = json.loads(line)
                yield entry["kind"], entry["row"]
            except (ValueError, KeyError, TypeError):
                continue


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _append_whole(fd: int, data: bytes) -> None:
    """Append `data` on a line of its own, or nothing: a write that fails part-way is cut
    back off the file before the error goes on (the caller holds the file lock)."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data  # the last line was torn: it must not glue onto ours
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass  # the torn tail stays; the next append starts on a new line all the same
        raise


def _wait_for_writers(path: Path) -> None:
    """Let an append that opened the file before the rename finish before it is read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        with _locked(fd):
            pass
    finally:
        os.close(fd)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None
