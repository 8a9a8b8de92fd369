"""The spool file: whole lines only, claims by rename, nothing lost to a concurrent claim."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from prefect_failtrack.store.spool import Spool, read

APPENDER = """
import sys
from prefect_failtrack.store.spool import Spool
spool, who, n = Spool(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(n):
    spool.append([("transition", {"id": f"{who}-{i}", "text": "x" * 200})])
"""


def test_entries_round_trip_with_datetimes_as_iso_strings(spool_path: Path) -> None:
    at = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    Spool(spool_path).append([("transition", {"id": "a", "occurred_at": at}), ("summary", {})])

    assert list(read(spool_path)) == [
        ("transition", {"id": "a", "occurred_at": "2024-05-01T08:30:00+00:00"}),
        ("summary", {}),
    ]


def test_a_torn_line_is_skipped(spool_path: Path) -> None:
    Spool(spool_path).append([("transition", {"id": "a"})])
    with open(spool_path, "a") as spool_file:
        spool_file.write('{"kind": "transition", "row": {"id": "b"')  # the process died here

    assert list(read(spool_path)) == [("transition", {"id": "a"})]


def test_claim_takes_the_file_and_new_appends_start_a_new_one(spool_path: Path) -> None:
    spool = Spool(spool_path)
    assert spool.claim() is None

    spool.append([("transition", {"id": "a"})])
    claimed = spool.claim()
    spool.append([("transition", {"id": "b"})])

    assert claimed is not None and claimed.name.endswith(".replaying")
    assert [row["id"] for _, row in read(claimed)] == ["a"]
    assert [row["id"] for _, row in read(spool_path)] == ["b"]


def test_a_claim_given_back_returns_to_the_spool(spool_path: Path) -> None:
    spool = Spool(spool_path)
    spool.append([("transition", {"id": "a"})])
    claimed = spool.claim()
    spool.append([("transition", {"id": "b"})])

    spool.give_back(claimed)

    assert not claimed.exists()
    assert sorted(row["id"] for _, row in read(spool_path)) == ["a", "b"]


def test_a_claim_with_a_torn_last_line_given_back_keeps_the_next_entries(
    spool_path: Path,
) -> None:
    spool = Spool(spool_path)
    spool.append([("transition", {"id": "a"})])
    with open(spool_path, "a") as spool_file:
        spool_file.write('{"kind": "transition", "row": {"id": "to')  # its writer was killed
    claimed = spool.claim()

    spool.give_back(claimed)
    spool.append([("transition", {"id": "b"})])

    assert [row["id"] for _, row in read(spool_path)] == ["a", "b"]


def test_claims_during_appends_from_other_processes_lose_nothing(spool_path: Path) -> None:
    writers, per_writer = 2, 500
    spool = Spool(spool_path)
    spool.append([("transition", {"id": "first"})])
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(spool_path), f"w{w}", str(per_writer)]
        )
        for w in range(writers)
    ]
    claimed: list[Path] = []
    while any(p.poll() is None for p in processes):
        if (path := spool.claim()) is not None:
            claimed.append(path)
        time.sleep(0.005)
    assert all(p.returncode == 0 for p in processes)
    if (path := spool.claim()) is not None:
        claimed.append(path)

    ids = [row["id"] for path in claimed for _, row in read(path)]
    assert len(claimed) > 1
    assert len(ids) == len(set(ids)) == writers * per_writer + 1


def test_an_append_cut_short_by_a_full_disk_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    """A real short write: RLIMIT_FSIZE lets the kernel write part of the entry, then fails
    the rest (EFBIG), as a full disk does (ENOSPC) — in a child process, SIGXFSZ ignored."""
    spool_path = tmp_path / "spool.jsonl"
    child = f"""
import resource, signal, sys
from pathlib import Path
from prefect_failtrack.store.spool import Spool
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
spool = Spool(Path({str(spool_path)!r}))
spool.append([("transition", {{"id": "before"}})])
size = Path({str(spool_path)!r}).stat().st_size
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, resource.RLIM_INFINITY))
try:
    spool.append([("transition", {{"id": "big", "text": "x" * 5000}})])
except OSError as error:
    print("refused", error.errno)
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
spool.append([("transition", {{"id": "after"}})])
"""
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)

    assert done.stdout.startswith("refused")
    assert [row["id"] for _, row in read(spool_path)] == ["before", "after"]
    assert spool_path.read_text().count("\n") == 2  # nothing of the refused entry is left


def test_an_append_after_a_torn_last_line_starts_on_a_line_of_its_own(spool_path: Path) -> None:
    spool = Spool(spool_path)
    spool.append([("transition", {"id": "first"})])
    with open(spool_path, "ab") as torn:  # a process killed in the middle of its write
        torn.write(b'{"kind":"transition","row":{"id":"to')

    spool.append([("transition", {"id": "next"})])

    assert [row["id"] for _, row in read(spool_path)] == ["first", "next"]
