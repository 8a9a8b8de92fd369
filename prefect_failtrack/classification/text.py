"""Exceptions rebuilt from text, where only a message survives (Prefect state messages, the CLI,
stored rows: with the facts stored beside them, `with_facts`)."""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import sys
from collections.abc import Mapping
from typing import Any

from .facts import FACTS_ATTR, Facts

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


def _known_class(
    module_name: str, class_name: str, allow_import: bool
) -> type[BaseException] | None:
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


def with_facts(exc: BaseException, facts: Mapping[str, Any] | Facts | None) -> BaseException:
    """`exc` carrying stored `facts` (``failtrack_facts``), which `facts.read_facts` then reads
    as they are: a stored row is judged on the facts its first verdict read."""
    carried = Facts.from_mapping(facts) if facts else None
    if carried is None:
        return exc
    try:
        setattr(exc, FACTS_ATTR, carried)
        return exc
    except Exception:  # a class with __slots__ or a frozen instance: a stand-in then
        stand_in = ReconstructedError(*getattr(exc, "args", ()))
        setattr(stand_in, FACTS_ATTR, carried)
        return stand_in


def exception_from_expression(text: str) -> BaseException | None:
    """The exception a Python expression makes, e.g. ``pymysql.err.OperationalError(2013,
    'Lost connection')``; ``None`` when `text` is no expression or makes no exception.

    The modules the expression names (``pymysql.err``) are imported first. For the
    command line: `text` is the user's own code, run as ``python -c`` would run it.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return None
    namespace: dict[str, Any] = {}
    for dotted in sorted(_dotted_names(tree.body)):
        _import_prefix(dotted, namespace)
    try:
        value = eval(compile(tree, "<exception>", "eval"), namespace)  # noqa: S307
    except Exception:  # a name that is not there, a constructor that refuses its arguments
        return None
    if isinstance(value, type) and issubclass(value, BaseException):
        try:
            value = value()
        except Exception:
            return None
    return value if isinstance(value, BaseException) else None


def _dotted_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for child in ast.walk(node):
        parts: list[str] = []
        current: ast.AST = child
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name):
            names.add(".".join([current.id, *reversed(parts)]))
    return names


def _import_prefix(dotted: str, namespace: dict[str, Any]) -> None:
    """Import the longest importable module prefix of `dotted`; bind its top-level name."""
    parts = dotted.split(".")
    top = parts[0]
    if top in namespace or hasattr(builtins, top):
        return
    for cut in range(len(parts), 0, -1):
        try:
            importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        try:
            namespace[top] = importlib.import_module(top)
        except Exception:
            pass
        return
