"""Exceptions rebuilt from text, where only a message survives (Prefect state messages, the CLI)."""

from __future__ import annotations

import importlib
import re
import sys

_NAME = re.compile(r"[A-Za-z_][\w.]*")
# Prefect's Failed messages: "Task run encountered an exception ValueError: bad date"
_PREFECT_PREFIX = re.compile(
    r"^(?:Task|Flow) run encountered an exception:?\s+(?P<rest>[A-Za-z_][\w.]*:.*)$", re.DOTALL
)


class ReconstructedError(Exception):
    """Stand-in for an exception known only by its class name and message."""


def exception_from_text(text: str, *, allow_import: bool = False) -> BaseException | None:
    """``module.Class: message`` -> an exception; the real class when it is already importable.

    The class is looked up in modules already imported (and, with
    `allow_import`, imported for the purpose: the CLI does, reconcile does not,
    since state messages come from elsewhere). Otherwise a stand-in class with
    the same qualified name is made, so that type rules by dotted name still
    match. Returns None when the text does not name a class.
    """
    name, sep, message = text.partition(":")
    name, message = name.strip(), message.strip()
    if not sep or not _NAME.fullmatch(name):
        return None
    module_name, _, class_name = name.rpartition(".")
    module_name = module_name or "builtins"
    cls = _known_class(module_name, class_name, allow_import)
    if cls is None:
        cls = type(class_name, (ReconstructedError,), {"__module__": module_name})
    try:
        return cls(message)
    except Exception:
        stand_in = type(class_name, (ReconstructedError,), {"__module__": module_name})
        return stand_in(message)


def exception_from_state_message(message: str | None) -> BaseException:
    """The exception a Prefect Failed state's message names, or a stand-in carrying the message."""
    text = (message or "").strip()
    match = _PREFECT_PREFIX.match(text)
    rebuilt = exception_from_text(match.group("rest")) if match else None
    return rebuilt or ReconstructedError(text or "no message")


def _known_class(module_name: str, class_name: str, allow_import: bool) -> type[BaseException] | None:
    module = sys.modules.get(module_name)
    if module is None and allow_import:
        try:
            module = importlib.import_module(module_name)
        except Exception:
            return None
    if module is None:
        return None
    cls = getattr(module, class_name, None)
    if isinstance(cls, type) and issubclass(cls, BaseException):
        return cls
    return None
