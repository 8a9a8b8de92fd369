"""Liveness: tell a slow run from a stuck one, and a dead process from a live one.

The transitions alone cannot: a run whose latest transition is Running says nothing of
whether anything still works on it. So each process says, at an interval, which runs it
holds; a reader compares the time of that heartbeat, and where it can the process
itself, with what the table says is still running.

**Who knows what.** Only the process that runs a run knows it is still at it: its
watched task runs (`capture.watch`: entered Running or Retrying here, not final yet)
and its tracked flow runs (between their Running and end hooks). Nothing else, not even
Prefect, knows of a task's process: Prefect 3.8's flow engine emits
``prefect.flow-run.heartbeat`` events for flow runs only, and nothing for tasks.

**When it writes** (`heartbeat`). One thread per process wakes once an interval
(``PREFECT_INTEGRATIONS_FAILTRACK_HEARTBEAT_INTERVAL``, default 30 s; the first beat
after one second) and hands the recorder one plain row of kind ``heartbeat``: the
process (a random key; host, pid, boot id, pid namespace, start time), the time, how
many runs it holds, and only what changed since the last beat: runs taken up, runs let
go of, new progress. The recorder's writer stores it like any row (batched, spooled
when the database is down, replayed in order) in one transaction: one row of
``failtrack_processes`` per beat, however many runs are held; a row of
``failtrack_heartbeats`` when a run is first seen, updated when its progress changes,
deleted when the process lets go of it. A run shorter than an interval may never be
seen: it needs no liveness. A process holding nothing writes nothing. At a flow run's
end, the beat that lets go of it is sent at once, before the flow's flush. Nothing
waits for ``atexit``. Being a row, a heartbeat travels by whatever carries rows.

**What the statuses mean** (`status`), for a run whose latest transition is Running or
Retrying and that a process holds:

- **slow**: its heartbeat is fresh and it has run longer than the stuck limit
  (``--after``, 30 min): alive, just long;
- **stuck**: no heartbeat for longer than ``heartbeat_stale_after`` (5 min, never less
  than two intervals), and its process may still exist: paused, starved, hung in C
  code, or cut off from the database;
- **lost**: its process is gone (this machine sees the pid gone, a zombie, reused, or a
  reboot since), or no heartbeat for longer than ``heartbeat_lost_after`` (30 min)
  wherever it ran: nothing works on it any more.

A run without a heartbeat (rows from before, runs shorter than an interval, untracked
runs) keeps the rule of `reports.stuck`: stuck when its latest transition is Running
and older than the stuck limit.

**Closing lost runs** (`close`). Reconcile reads Prefect's view of each lost run: if
Prefect has an end for it, reconcile's history adds that end; if Prefect shows nothing
newer than one interval after the last beat, a ``Crashed`` row says why (which process,
last beat, last progress), and the run stops being listed. Prefect's own state is
never changed: that is the job of Prefect's zombie-flow automation, for flow runs.

**Progress** (`progress`). `record_progress(rows=..., message=...)` puts the latest
count and message in this process's memory (a microsecond or two, never raising); the
next beat carries what changed.
"""

from .progress import record_progress

__all__ = ["record_progress"]
