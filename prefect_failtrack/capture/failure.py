"""One failure, handled once: its message, its class and its traceback, each computed once.

The retry condition, the failure hook, the row, the log line and the span attributes
all need the same facts about the same exception. ``str()`` of an exception is user
code and may be slow (issue 18: a 10 s ``__str__`` ran three times on the pipeline's
thread), so `Failure` computes the message once, bounded in time (`message_of`), and
classification, the message column and the traceback reuse it.
"""

from __future__ import annotations

import threading
import types
from typing import Any

from ..classification import Classification, RuleSet, classify
from ..classification.introspect import RECENT_MESSAGES, qualified_name, safe_message
from ..redaction import get_redactor, truncate
from . import rows
from .stacks import format_exception

LOGGED_STACK_CHARS = 50_000
"""Characters of a traceback failtrack writes in a run's logs (Prefect's own lines have it all)."""
_PLAIN_ARGS = (str, int, float, bytes, type(None))


class FailedWithoutException(Exception):
    """A run ended Failed without an exception to show (e.g. it returned a Failed state)."""


def message_of(exc: BaseException, limit: int, timeout: float) -> str:
    """``str(exc)``, at most `limit` characters, computed within `timeout` seconds.

    The built-in ``__str__`` of plain exceptions is called directly; a class's own
    ``__str__`` is called in a helper thread, which is given up on after `timeout` (the
    thread finishes on its own; the run does not wait for it)."""
    if _builtin_str(exc):
        return safe_message(exc, limit)
    box: list[str] = []
    thread = threading.Thread(
        target=lambda: box.append(safe_message(exc, limit)), name="failtrack-str", daemon=True
    )
    thread.start()
    thread.join(timeout)
    if box:
        return box[0]
    return f"<message not available: str() of {qualified_name(type(exc))} took over {timeout:g} s>"


def _builtin_str(exc: BaseException) -> bool:
    """``str(exc)`` is the interpreter's own and formats only plain values."""
    try:
        method = type(exc).__str__
        if not isinstance(method, types.WrapperDescriptorType):
            return False
        args = exc.args
        return type(args) is tuple and all(type(a) in _PLAIN_ARGS for a in args)
    except Exception:
        return False


def remembered_message(exc: BaseException) -> str:
    """`message_of` `exc`, computed once for the last few exceptions of this process (the
    same exception object often fails two runs: a task's, then the flow's that called it)
    and remembered where `safe_message` finds it (`RECENT_MESSAGES`)."""
    known = RECENT_MESSAGES.get(exc)
    if known is not None:
        return known
    limits = rows.settings()
    text = message_of(exc, limits.message_limit * 4, limits.message_timeout)
    RECENT_MESSAGES.remember(exc, text)
    return text


class Failure:
    """An exception, classified, with its message and traceback computed once."""

    __slots__ = ("_columns", "_stack", "classification", "exc", "message")

    def __init__(self, exc: BaseException, classification: Classification, message: str) -> None:
        self.exc = exc
        self.classification = classification
        self.message = message
        self._stack: str | None | bool = False  # False: not formatted yet
        self._columns: dict[str, Any] | None = None

    @classmethod
    def of(cls, exc: BaseException | None, rules: RuleSet, fallback: str | None = None) -> Failure:
        """Classify `exc` (or, without one, a `FailedWithoutException` saying `fallback`)."""
        if exc is None:
            exc = FailedWithoutException(fallback or "the run failed without an exception")
        message = remembered_message(exc)
        classification = classify(exc, rules)
        return cls(exc, classification, message)

    def with_classification(self, classification: Classification) -> Failure:
        """The same exception, judged otherwise (a subflow's failure is DEPENDENCY here)."""
        return Failure(self.exc, classification, self.message)

    def stack(self) -> str | None:
        """The traceback as Python prints it (not redacted, not cut), formatted once."""
        if self._stack is False:
            known, deadline = self.message, rows.settings()
            self._stack = format_exception(
                self.exc,
                lambda e: known if e is self.exc else message_of(e, 4000, deadline.message_timeout),
                LOGGED_STACK_CHARS,
            )
        return self._stack if isinstance(self._stack, str) else None

    def columns(self) -> dict[str, Any]:
        """The row's error columns (`rows.error_columns`), redacted and truncated, once."""
        if self._columns is None:
            self._columns = rows.error_columns(
                self.exc, self.classification, message=self.message, stack=self.stack() or ""
            )
        return dict(self._columns)

    def logged_stack(self) -> str:
        """The traceback for a run's logs: redacted, up to `LOGGED_STACK_CHARS`."""
        stack = self.stack()
        if not stack:
            return ""
        return truncate(get_redactor().redact(stack), LOGGED_STACK_CHARS) or ""
