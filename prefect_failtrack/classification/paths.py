"""Where a library keeps its error code, written as data: a tiny path language.

A knowledge pack says where to read a code on an exception of a given type without
importing the library, e.g. ``"args[0]"`` (pymysql's error number), ``"args[0]['C']"``
(pg8000's SQLSTATE), ``"args[0].name()"`` (confluent-kafka's ``KafkaError``),
``"body|json.reason"`` (the Kubernetes ``Status`` in an ``ApiException``'s body).

Steps: ``.name`` an attribute, ``[0]`` an index, ``['key']`` a mapping key, ``()`` a call
without arguments, ``|json`` a JSON text parsed (at most `JSON_LIMIT` characters).
Reading never raises: any step that fails gives ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

JSON_LIMIT = 65536
_STEP = re.compile(
    r"\.?(?P<attr>[A-Za-z_]\w*)|\[(?P<index>-?\d+)\]|\[(?P<key>'[^']*'|\"[^\"]*\")\]"
    r"|(?P<call>\(\))|(?P<json>\|json)"
)

Step = tuple[str, Any]


@lru_cache(maxsize=1024)
def compile_path(path: str) -> tuple[Step, ...]:
    """The steps of `path`; raises ``ValueError`` for a path that does not parse."""
    steps: list[Step] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read the path {path!r} at {path[position:]!r}")
        if match["attr"] is not None:
            steps.append(("attr", match["attr"]))
        elif match["index"] is not None:
            steps.append(("index", int(match["index"])))
        elif match["key"] is not None:
            steps.append(("key", match["key"][1:-1]))
        elif match["call"] is not None:
            steps.append(("call", None))
        else:
            steps.append(("json", None))
        position = match.end()
    return tuple(steps)


def first_attribute(path: str) -> str | None:
    """The attribute a path starts with (``args`` for ``args[0]``), if it starts with one."""
    steps = compile_path(path)
    return steps[0][1] if steps and steps[0][0] == "attr" else None


def read_path(obj: Any, path: str) -> Any:
    """The value at `path` from `obj`, or ``None``; never raises."""
    try:
        steps = compile_path(path)
    except Exception:
        return None
    for kind, arg in steps:
        try:
            obj = _step(obj, kind, arg)
        except Exception:  # hostile properties, calls that raise, bad JSON
            return None
        if obj is None:
            return None
    return obj


def _step(obj: Any, kind: str, arg: Any) -> Any:
    if kind == "attr":
        return getattr(obj, arg, None)
    if kind == "index":
        if isinstance(obj, Sequence) and not isinstance(obj, str | bytes):
            return obj[arg] if -len(obj) <= arg < len(obj) else None
        return None
    if kind == "key":
        return obj.get(arg) if isinstance(obj, Mapping) else None
    if kind == "call":
        return obj() if callable(obj) else None
    if isinstance(obj, bytes | bytearray):
        obj = bytes(obj[:JSON_LIMIT]).decode("utf-8", "replace")
    if isinstance(obj, str) and len(obj) <= JSON_LIMIT and obj.lstrip()[:1] in ("{", "["):
        return json.loads(obj)
    return obj if isinstance(obj, Mapping) else None
