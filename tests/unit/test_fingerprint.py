"""Fingerprints: same error, same group; different class or place, different group."""

from __future__ import annotations

import json
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from prefect_failtrack.fingerprint import (
    FINGERPRINT_VERSION,
    NORMALIZED_LIMIT,
    fingerprint,
    fingerprint_exception,
    normalize_message,
    user_frame,
)


class LoadError(Exception):
    pass


def load_orders(row: int) -> None:
    raise LoadError(f"bad row {row} in /data/{row}/orders.csv")


def load_customers(row: int) -> None:
    raise LoadError(f"bad row {row} in /data/{row}/orders.csv")


def parse_payload(text: str) -> None:
    json.loads(text)  # raises inside the standard library


def validate_count(value: object) -> None:
    TypeAdapter(int).validate_python(value)  # raises inside pydantic (site-packages)


def two_raise_sites(second: bool, n: int) -> None:
    if second:
        raise ValueError(f"limit {n} exceeded")
    raise ValueError(f"limit {n} exceeded")


def caught(fn, *args) -> BaseException:
    try:
        fn(*args)
    except BaseException as exc:  # noqa: BLE001 - the tests want the object
        return exc
    raise AssertionError("did not raise")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Row 42 failed", "Row <num> failed"),
        ("took 3.25s, 1,200 rows, 1.5e10 bytes", "took <num>s, <num> rows, <num> bytes"),
        ("worker-3 and batch_17", "worker-<num> and batch_<num>"),
        ("S3 int64 utf8 row42", "S3 int64 utf8 row42"),
        ("run 123e4567-E89B-12d3-a456-426614174000 gone", "run <uuid> gone"),
        ("object at 0x7f3a2b1c9d00", "object at <hex>"),
        ("commit 3f2a9c8e1b7d6a5f", "commit <hex>"),
        ("at 2024-01-02T03:04:05.123+02:00 and 2024-01-02", "at <ts> and <ts>"),
        ("at 12:30:45.5 on 01/02/2024", "at <ts> on <ts>"),
        ("KeyError: 'user_id'", "KeyError: <str>"),
        ('relation "orders_2024" does not exist', "relation <str> does not exist"),
        ("can't parse it's value", "can't parse it's value"),
        ("No such file: /opt/data/2024/x.csv", "No such file: <path>"),
        ("open ./data/x.csv and ~/cfg.yml", "open <path> and <path>"),
        ("landing/2024/05/part.parquet missing", "<path> missing"),
        ("cannot read C:\\Users\\etl\\x.txt", "cannot read <path>"),
        ("and/or TCP/IP stays", "and/or TCP/IP stays"),
        (
            "GET https://user:pw@api.example.com:8443/v1/items?page=2 returned 503",
            "GET https://api.example.com/<path> returned <num>",
        ),
        ("see https://docs.example.com", "see https://docs.example.com"),
        ("connect http://10.0.0.7:8080/x", "connect http://<ip>/<path>"),
        ("host 10.0.3.17:5432 and fe80::1", "host <ip> and <ip>"),
        ("addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", "addr <ip> up"),
        ("Foo :: Bar and std::vector", "Foo :: Bar and std::vector"),
        ("mail bob.smith+etl@example.co.uk now", "mail <email> now"),
        ("  many \n\t spaces  ", "many spaces"),
    ],
)
def test_normalize_message(message: str, expected: str) -> None:
    assert normalize_message(message) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Row 42 failed", "Row 9000001 failed"),
        ("flow run 123e4567-e89b-12d3-a456-426614174000", "flow run 00000000-0000-0000-0000-000000000001"),
        ("deadline 2024-01-01T00:00:00Z passed", "deadline 2025-12-31T23:59:59.999Z passed"),
        ("missing /data/2024/01/orders.csv", "missing /srv/other/file.parquet"),
        ("KeyError: 'user_id'", "KeyError: 'email'"),
        ("timeout after 30s to 10.0.0.1", "timeout after 45s to 192.168.1.20"),
        ("object at 0x7f00aa", "object at 0x55bbcc99"),
    ],
)
def test_volatile_parts_do_not_split_groups(first: str, second: str) -> None:
    assert fingerprint("ValueError", first) == fingerprint("ValueError", second)


def test_version_prefix_and_shape() -> None:
    fp = fingerprint("ValueError", "x")
    assert FINGERPRINT_VERSION == 1
    assert re.fullmatch(r"v1:[0-9a-f]{16}", fp)
    assert fingerprint("ValueError", None) == fingerprint("ValueError", "")


def test_odd_text_is_hashable() -> None:
    assert fingerprint("ValueError", "lone \ud800 surrogate").startswith("v1:")
    assert normalize_message("lone \udfff 42") == "lone \udfff <num>"


def test_class_message_and_frame_each_count() -> None:
    base = fingerprint("ValueError", "bad input", "etl.load:run")
    assert fingerprint("TypeError", "bad input", "etl.load:run") != base
    assert fingerprint("ValueError", "other input", "etl.load:run") != base
    assert fingerprint("ValueError", "bad input", "etl.extract:run") != base
    assert fingerprint("ValueError", "bad input") != base


def test_user_frame_is_module_and_function_without_line() -> None:
    frame = user_frame(caught(load_orders, 1))
    assert frame == f"{__name__}:load_orders"
    assert not re.search(r":\d", frame)


def test_same_function_different_values_same_fingerprint() -> None:
    assert fingerprint_exception(caught(load_orders, 1)) == fingerprint_exception(
        caught(load_orders, 98765)
    )


def test_line_numbers_do_not_count() -> None:
    assert fingerprint_exception(caught(two_raise_sites, False, 1)) == fingerprint_exception(
        caught(two_raise_sites, True, 2)
    )


def test_different_user_frames_differ() -> None:
    orders, customers = caught(load_orders, 1), caught(load_customers, 1)
    assert str(orders) == str(customers)
    assert fingerprint_exception(orders) != fingerprint_exception(customers)


def test_different_classes_differ() -> None:
    def raise_value_error() -> None:
        raise ValueError("bad row 1 in /data/1/orders.csv")

    assert fingerprint_exception(caught(raise_value_error)) != fingerprint_exception(
        caught(load_orders, 1)
    )


def test_qualified_class_names() -> None:
    exc = caught(load_orders, 3)
    assert fingerprint_exception(exc) == fingerprint(
        f"{__name__}.LoadError", str(exc), f"{__name__}:load_orders"
    )
    builtin = ValueError("plain")
    assert fingerprint_exception(builtin) == fingerprint("ValueError", "plain", None)


def test_library_frames_are_skipped() -> None:
    assert user_frame(caught(parse_payload, "{")) == f"{__name__}:parse_payload"
    exc = caught(validate_count, "not a number")
    assert isinstance(exc, ValidationError)
    assert user_frame(exc) == f"{__name__}:validate_count"


def test_nested_functions_use_qualname() -> None:
    def inner() -> None:
        raise RuntimeError("x")

    frame = user_frame(caught(inner))
    assert frame == f"{__name__}:test_nested_functions_use_qualname.<locals>.inner"


def test_chain_is_used_when_the_outer_error_has_no_user_frame() -> None:
    outer = RuntimeError("wrapped, never raised")
    outer.__cause__ = caught(load_customers, 5)
    assert user_frame(outer) == f"{__name__}:load_customers"


def test_notebook_cells_count_as_user_code() -> None:
    namespace: dict = {"__name__": "__main__"}
    exec(compile("def cell():\n    raise KeyError('k')\n", "<ipython-input-3>", "exec"), namespace)
    assert user_frame(caught(namespace["cell"])) == "__main__:cell"
    namespace = {"__name__": "generated"}
    exec(compile("def gen():\n    raise KeyError('k')\n", "<string>", "exec"), namespace)
    assert user_frame(caught(namespace["gen"])) == f"{__name__}:caught"


def test_no_traceback() -> None:
    exc = ValueError("never raised")
    assert user_frame(exc) is None
    assert fingerprint_exception(exc).startswith("v1:")


def test_cyclic_chain_terminates() -> None:
    a, b = ValueError("a"), TypeError("b")
    a.__context__, b.__context__ = b, a
    a.__cause__, b.__cause__ = b, a
    start = time.perf_counter()
    assert user_frame(a) is None
    assert fingerprint_exception(a).startswith("v1:")
    assert time.perf_counter() - start < 1.0


def test_raising_str_is_survived() -> None:
    class Hostile(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            raise RuntimeError("still no")

    def raise_hostile() -> None:
        raise Hostile()

    first, second = caught(raise_hostile), caught(raise_hostile)
    assert fingerprint_exception(first) == fingerprint_exception(second)
    assert fingerprint_exception(first).startswith("v1:")


def test_huge_message_is_cheap() -> None:
    message = "row 1 failed: " + "x" * 10_000_000
    start = time.perf_counter()
    normalized = normalize_message(message)
    fp = fingerprint_exception(ValueError(message))
    assert time.perf_counter() - start < 0.5
    assert len(normalized) <= NORMALIZED_LIMIT and normalized.startswith("row <num> failed: x")
    assert fp == fingerprint("ValueError", "row 2 failed: " + "x" * 9_000_000)


def test_hostile_patterns_stay_linear() -> None:
    for chunk in ("a/", "1.", "'", "::", "fe80:", "a@", "0x", "ab12", "9:", "1-", "https://a"):
        start = time.perf_counter()
        normalize_message(chunk * 5_000)
        assert time.perf_counter() - start < 0.5, chunk


@given(st.text())
def test_normalize_never_raises_and_is_capped(message: str) -> None:
    assert len(normalize_message(message)) <= NORMALIZED_LIMIT


@given(st.integers(), st.integers(), st.uuids(), st.datetimes())
def test_templates_with_any_values_group_together(a: int, b: int, uid, when) -> None:
    def message(n: int) -> str:
        return f"task {uid} failed at {when.isoformat()} after {n} rows"

    assert normalize_message(message(abs(a))) == normalize_message(message(abs(b)))


def _fails_in_user_code() -> None:
    raise ConnectionRefusedError(111, "Connection refused")


def test_a_function_shipped_by_value_keeps_its_user_frame() -> None:
    """Prefect's process pool, Dask and Ray ship task functions by value (cloudpickle names
    their code ``<dynamic-code>``): the same failure fingerprints alike there (issue 15)."""
    import sys

    import cloudpickle

    from prefect_failtrack.fingerprint import fingerprint_exception, user_frame

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    try:
        shipped = cloudpickle.loads(cloudpickle.dumps(_fails_in_user_code))
    finally:
        cloudpickle.unregister_pickle_by_value(module)
    seen = []
    for fn in (_fails_in_user_code, shipped):
        try:
            fn()
        except ConnectionRefusedError as exc:
            seen.append((user_frame(exc), fingerprint_exception(exc)))
    assert shipped.__code__.co_filename == "<dynamic-code>"
    assert seen[0] == seen[1]
    assert seen[0][0] == f"{__name__}:_fails_in_user_code"
