"""The knowledge tables themselves: every dotted name is a real class of the installed
libraries, rendered exactly as `qualified_name` renders it, and the classification
package imports none of those libraries."""

from __future__ import annotations

import builtins
import importlib
import ast
import re
import sys
from pathlib import Path

import pytest

from prefect_failtrack import classification
from prefect_failtrack.classification import ErrorType
from prefect_failtrack.classification.introspect import qualified_name
from prefect_failtrack.classification.knowledge import FAMILIES
from prefect_failtrack.classification.rules import MessagePatterns, TypeRule

TYPE_TABLES = ("TYPES", "GENERIC_TYPES", "TYPE_MESSAGES")


#: Extension modules that name themselves by a top-level name they are not importable by.
_IMPORTED_AS = {"cimpl": "confluent_kafka.cimpl"}


def _resolve(dotted: str) -> type:
    if "." not in dotted:
        return getattr(builtins, dotted)
    top, _, rest = dotted.partition(".")
    if top in _IMPORTED_AS:
        dotted = f"{_IMPORTED_AS[top]}.{rest}"
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj = module
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _type_names() -> list[tuple[str, str, str]]:
    return [
        (family.__name__.rsplit(".", 1)[-1], table, name)
        for family in FAMILIES
        for table in TYPE_TABLES
        for name in getattr(family, table, {})
    ]


@pytest.mark.parametrize(("family", "table", "name"), _type_names())
def test_every_type_name_is_a_real_class_rendered_as_listed(family, table, name):
    cls = _resolve(name)
    assert isinstance(cls, type) and issubclass(cls, BaseException), name
    assert qualified_name(cls) == name


def test_type_tables_hold_error_types():
    for family in FAMILIES:
        for table in ("TYPES", "GENERIC_TYPES", "SQLSTATES", "CLOUD_CODES", "ERRNOS"):
            for key, kind in getattr(family, table, {}).items():
                assert isinstance(kind, ErrorType), (family.__name__, table, key)


def test_no_type_is_both_specific_and_generic():
    specific = {n for f in FAMILIES for n in getattr(f, "TYPES", {})}
    generic = {n for f in FAMILIES for n in getattr(f, "GENERIC_TYPES", {})}
    assert specific & generic == set()


def test_sqlstate_keys_are_classes_or_codes():
    for family in FAMILIES:
        for code in getattr(family, "SQLSTATES", {}):
            assert re.fullmatch(r"[0-9A-Z]{2}(?:[0-9A-Z]{3})?", code), code


def test_message_patterns_compile_and_capture_nothing():
    tables = [getattr(f, "MESSAGES", []) for f in FAMILIES]
    tables += [e for f in FAMILIES for e in getattr(f, "TYPE_MESSAGES", {}).values()]
    for entries in tables:
        MessagePatterns(entries)  # compiles
        for pattern, kind, label in entries:
            assert re.compile(pattern).groups == 0, pattern
            assert isinstance(kind, ErrorType) and label


def test_status_carriers_are_not_decided_by_type():
    """Listed types beat the HTTP status, so no class whose meaning is its status may
    be (or inherit from) a TYPES entry."""
    import aiohttp
    import httpx
    import requests
    import urllib.error
    import botocore.exceptions
    import prefect.exceptions

    specific = TypeRule({n: k for f in FAMILIES for n, k in getattr(f, "TYPES", {}).items()})
    request = httpx.Request("GET", "https://example.test/")
    carriers = [
        httpx.HTTPStatusError("x", request=request, response=httpx.Response(503, request=request)),
        prefect.exceptions.PrefectHTTPStatusError(
            "x", request=request, response=httpx.Response(503, request=request)
        ),
        requests.exceptions.HTTPError("x"),
        aiohttp.ClientResponseError(None, (), status=503),
        aiohttp.ContentTypeError(None, (), status=503),
        aiohttp.ClientHttpProxyError(None, (), status=502),
        urllib.error.HTTPError("https://example.test/", 503, "x", {}, None),
        botocore.exceptions.ClientError({"Error": {"Code": "X"}}, "GetObject"),
    ]
    for exc in carriers:
        assert specific(exc) is None, qualified_name(type(exc))


def test_the_classification_package_imports_only_the_standard_library():
    """Knowledge is data: the product never imports the libraries it knows about."""
    package = Path(classification.__file__).parent
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top == "__future__", (path.name, name)
