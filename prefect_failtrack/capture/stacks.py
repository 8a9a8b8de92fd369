"""Tracebacks as Python prints them, from messages failtrack already has.

``traceback.TracebackException`` calls ``str()`` on every exception it formats, in its
constructor: for an exception whose ``__str__`` is slow, formatting its traceback paid
that price again after classification and the message column had (issue 18: three
calls of a 10 s ``__str__``). `format_exception` asks a function for each message
instead (`Failure` hands it the one message it computed), and otherwise prints what
Python prints: the chain (causes and contexts, oldest first), each traceback, notes,
and exception groups with their members, bounded by `MAX_EXCEPTIONS`.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ..classification.introspect import group_members, qualified_name, safe_getattr

MAX_EXCEPTIONS = 100
"""Exceptions printed at most, chains and group members together (Python's own formatting
visits every member of every nested group, the same one as often as it appears)."""
MAX_MEMBERS = 15
CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception(
    exc: BaseException, message_of: Callable[[BaseException], str], max_chars: int | None = None
) -> str | None:
    """The traceback of `exc` (and what it chains and groups), cut after the line that
    reaches `max_chars`; ``None`` if it cannot be had."""
    try:
        out: _Lines = _Lines(max_chars)
        _format(exc, message_of, out, set(), [MAX_EXCEPTIONS], "")
        return out.text()
    except Exception:
        return None


class _Lines:
    def __init__(self, max_chars: int | None) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.max_chars = max_chars

    @property
    def full(self) -> bool:
        return self.max_chars is not None and self.size >= self.max_chars

    def add(self, line: str) -> None:
        if not self.full:
            self.lines.append(line)
            self.size += len(line)

    def text(self) -> str:
        text = "".join(self.lines)
        return text if self.max_chars is None else text[: self.max_chars]


def _format(
    exc: BaseException, message_of: Callable[[BaseException], str], out: _Lines,
    seen: set[int], budget: list[int], prefix: str,
) -> None:
    seen.add(id(exc))
    budget[0] -= 1
    cause = safe_getattr(exc, "__cause__")
    context = safe_getattr(exc, "__context__")
    if isinstance(cause, BaseException) and id(cause) not in seen and budget[0] > 0:
        _format(cause, message_of, out, seen, budget, prefix)
        out.add(_prefixed(CAUSE, prefix))
    elif (
        isinstance(context, BaseException) and id(context) not in seen and budget[0] > 0
        and safe_getattr(exc, "__suppress_context__") is not True
    ):
        _format(context, message_of, out, seen, budget, prefix)
        out.add(_prefixed(CONTEXT, prefix))
    tb = safe_getattr(exc, "__traceback__")
    if tb is not None and not out.full:
        out.add(f"{prefix}Traceback (most recent call last):\n")
        frames = traceback.StackSummary.extract(traceback.walk_tb(tb), lookup_lines=False)
        for frame in frames.format():  # source lines are read here, frame by frame
            out.add(_prefixed(frame, prefix))
            if out.full:
                return
    message = message_of(exc)
    name = qualified_name(type(exc))
    out.add(f"{prefix}{name}: {message}\n" if message else f"{prefix}{name}\n")
    for note in _notes(exc):
        out.add(_prefixed(f"{note}\n", prefix))
    members = group_members(exc)
    for number, member in enumerate(members[:MAX_MEMBERS], start=1):
        if budget[0] <= 0 or out.full:
            out.add(f"{prefix}+---------------- ... ----------------\n")
            break
        out.add(f"{prefix}+---------------- {number} ----------------\n")
        _format(member, message_of, out, seen, budget, prefix + "| ")
    if len(members) > MAX_MEMBERS:
        out.add(f"{prefix}+---------------- and {len(members) - MAX_MEMBERS} more ----------------\n")


def _notes(exc: BaseException) -> list[str]:
    notes: Any = safe_getattr(exc, "__notes__")
    if not isinstance(notes, list):
        return []
    return [note for note in notes[:20] if isinstance(note, str)]


def _prefixed(text: str, prefix: str) -> str:
    if not prefix:
        return text
    return "".join(prefix + line for line in text.splitlines(keepends=True))
