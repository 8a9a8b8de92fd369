"""`classify` never raises and always answers with an ErrorType, whatever the exception
does: raising __str__/__repr__, huge messages, cyclic or very deep chains, nested groups,
undecodable bytes, attributes that raise (on access, or when called: ``code()``,
``retriable()``), garbage Retry-After values, rules that raise, and broken knowledge packs
from other packages."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefect_failtrack import Classification, ErrorType, classify
from prefect_failtrack.classification import CodeSource, TypeRule, engine, knowledge, plugins
from prefect_failtrack.classification.introspect import parse_retry_after

pytestmark = pytest.mark.timeout(120)  # a hang here is a bug: fail instead of waiting


class Boom(Exception):
    """What hostile members raise."""


class HostileStr(str):
    def strip(self, *args):
        raise Boom("strip")

    def __getitem__(self, item):
        raise Boom("getitem")


def _pretty(self, printer, cycle):
    """Hypothesis prints failing examples with this; str() and repr() still raise."""
    printer.text(f"<hostile {type(self).__name__}>")


class Unprintable:
    def __str__(self):
        raise Boom("str")

    __repr__ = __str__
    _repr_pretty_ = _pretty


class RaisingMapping(Mapping):
    _repr_pretty_ = _pretty

    def __getitem__(self, key):
        raise Boom("getitem")

    def get(self, key, default=None):
        raise Boom("get")

    def __iter__(self):
        raise Boom("iter")

    def __len__(self):
        raise Boom("len")


def _raising_property(name):
    def getter(self):
        raise Boom(name)

    return property(getter)


ATTRIBUTES = [
    "response", "status", "status_code", "code", "sqlstate", "pgcode", "headers", "errno",
    "orig", "reason", "exceptions", "failtrack_error_type", "failtrack_retry_after",
    "__cause__", "__context__", "__suppress_context__",
    # what the generic layer and the knowledge packs read
    "http_status", "resp", "sql_state", "grpc_status_code", "retryable", "is_retryable",
    "retriable", "is_transient", "temporary", "isrecoverable", "_error_labels", "error_labels",
    "error_code", "error_name", "errors", "timeout", "retry_after", "retry_after_seconds",
    "body", "failtrack_facts", "inner_exception", "last_attempt", "smtp_code", "reply_code",
    "acme_code", "args",
]


class RaisingCall:
    """An attribute that is there, but raises when called (``code()``, ``retriable()``)."""

    _repr_pretty_ = _pretty

    def __call__(self, *args, **kwargs):
        raise Boom("call")

    def __getattr__(self, name):
        raise Boom(name)

retry_after_values = st.one_of(
    st.none(), st.text(max_size=40), st.binary(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**400), st.floats(allow_nan=True),
    st.just("Wed, 21 Oct 10000 07:28:00 GMT"), st.just("Fri, 31 Dec 9999 23:59:59 GMT"),
    st.just("nan"), st.just("inf"), st.just("-1e999"), st.just(HostileStr("7")),
    st.builds(Unprintable),
)

attribute_values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**400),
    st.floats(allow_nan=True), st.text(max_size=20), st.binary(max_size=20),
    st.builds(Unprintable), st.builds(RaisingMapping), st.just(HostileStr("40P01")),
    st.sampled_from(["40P01", "08006", "TRANSIENT", "NOT_A_CLASS", "ThrottlingException"]),
    st.dictionaries(st.sampled_from(["Retry-After", "retry-after", "x", "retry-after-ms",
                                     "X-RateLimit-Remaining", "X-RateLimit-Reset"]),
                    retry_after_values, max_size=3),
    st.builds(RaisingCall), st.just(lambda: True), st.just(lambda: "UNAVAILABLE"),
    st.lists(st.one_of(st.builds(RaisingMapping), st.dictionaries(
        st.just("reason"), st.one_of(st.text(max_size=20), st.builds(Unprintable)))), max_size=3),
    st.sets(st.sampled_from(["RetryableWriteError", "TransientTransactionError", "x"])),
    st.fixed_dictionaries({"status": st.integers(), "code": st.text(max_size=8),
                           "labels": st.lists(st.integers(), max_size=2)}),
    st.sampled_from(['{"reason": "AlreadyExists"}', "{not json", "[1, 2]", b"\xff{"]),
    st.fixed_dictionaries({
        "Error": st.fixed_dictionaries({"Code": st.one_of(st.text(max_size=20), st.none(),
                                                           st.builds(Unprintable))}),
        "ResponseMetadata": st.fixed_dictionaries({
            "HTTPStatusCode": st.one_of(st.integers(), st.text(max_size=5)),
            "HTTPHeaders": st.one_of(st.builds(RaisingMapping), st.dictionaries(
                st.just("retry-after"), retry_after_values, max_size=1)),
        }),
    }),
)

bases = st.sampled_from([Exception, ValueError, OSError, ConnectionError, TimeoutError,
                         KeyError, UnicodeError, BaseException, RuntimeError])


@st.composite
def hostile_classes(draw):
    namespace: dict = {"_repr_pretty_": _pretty}
    if draw(st.booleans()):
        namespace["__str__"] = _raising_property("__str__").fget
    if draw(st.booleans()):
        namespace["__repr__"] = _raising_property("__repr__").fget
    if draw(st.booleans()):
        namespace["__str__"] = lambda self: 42  # not a string
    module = draw(st.one_of(st.sampled_from(["httpx", "google.api_core.exceptions", "urllib.error",
                                             "builtins", "psycopg", "", "pymysql.err", "cimpl",
                                             "kubernetes.client.exceptions", "smtplib",
                                             "oracledb.exceptions", "acme.errors"]),
                            st.integers(), st.none(), st.builds(Unprintable)))
    namespace["__module__"] = module
    for name in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=4, unique=True)):
        if draw(st.booleans()):
            namespace[name] = _raising_property(name)
        else:
            namespace[name] = draw(attribute_values)
    name = draw(st.sampled_from(["ConnectTimeout", "HTTPStatusError", "OperationalError",
                                 "ClientError", "Weird", "MySQLError", "KafkaException",
                                 "ApiException", "SMTPResponseException", "Error",
                                 "WarehouseError"]))
    try:
        return type(name, (draw(bases),), namespace)
    except TypeError:  # e.g. a class attribute Python refuses
        return type(name, (Exception,), {})


message_args = st.lists(
    st.one_of(st.text(max_size=200), st.binary(max_size=50), st.integers(), st.none(),
              st.builds(Unprintable), st.just(b"\xff\xfe\x00 undecodable")),
    max_size=3,
)


@st.composite
def hostile_exceptions(draw):
    cls = draw(hostile_classes())
    args = draw(message_args)
    try:
        exc = cls(*args)
    except Exception:
        exc = cls()
    for name in draw(st.lists(st.sampled_from(ATTRIBUTES), max_size=3, unique=True)):
        try:
            setattr(exc, name, draw(attribute_values))
        except Exception:
            pass
    return exc


@st.composite
def chains(draw):
    links = draw(st.lists(hostile_exceptions(), min_size=1, max_size=5))
    for link in links:
        for attr in ("__cause__", "__context__"):
            if draw(st.booleans()):
                try:
                    setattr(link, attr, draw(st.sampled_from(links)))  # cycles allowed
                except Exception:
                    pass
    return links[0]


def groups(children):
    return st.lists(children, min_size=1, max_size=4).map(
        lambda members: BaseExceptionGroup("group", members)
    )


anything = st.recursive(st.one_of(chains(), hostile_exceptions()), groups, max_leaves=12)


def raising_rule(exc):
    raise Boom("rule")


def nonsense_rule(exc):
    return "NOT A CLASS"


rules = st.lists(
    st.sampled_from([raising_rule, nonsense_rule, lambda e: None, lambda e: ErrorType.TIMEOUT,
                     TypeRule({"Weird": "PERMANENT"})]),
    max_size=3,
)


def assert_sound(result: Classification) -> None:
    assert isinstance(result, Classification)
    assert isinstance(result.error_type, ErrorType)
    assert result.retryable is result.error_type.retryable
    assert isinstance(result.reason, str) and isinstance(result.error_class, str)
    assert isinstance(result.decided_by, str)
    assert not result.reason.startswith("classifier error"), result.reason  # absorbed per rule
    if result.retry_after is not None:
        assert isinstance(result.retry_after, float)
        assert math.isfinite(result.retry_after) and result.retry_after >= 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exc=anything, user_rules=rules)
def test_classify_never_raises(exc, user_rules):
    assert_sound(classify(exc))
    assert_sound(classify(exc, rules=user_rules))


class HostileTables:
    """A pack whose every table raises when read."""

    def __getattr__(self, name):
        raise Boom(name)


class LyingTable(dict):
    def items(self):
        raise Boom("items")


broken_packs = st.lists(
    st.one_of(
        st.builds(HostileTables),
        st.just(type("BadCodes", (), {"CODES": {"x": {1: "NOT_A_CLASS"}}})),
        st.just(type("BadSource", (), {"CODE_SOURCES": {"a.B": ["args[0]"]}})),
        st.just(type("BadPath", (), {"CODE_SOURCES": {"a.B": [CodeSource("x", code="((")]}})),
        st.just(type("BadRegex", (), {"MESSAGES": [("(unclosed", "TRANSIENT", "x")]})),
        st.just(type("Lying", (), {"TYPES": LyingTable(), "NAMES": LyingTable()})),
        st.just(type("NotTables", (), {"TYPES": 42, "HTTP_STATUS": "nope"})),
        # well formed: reads the codes of hostile "acme.errors.WarehouseError"s
        st.just(type("Acme", (), {
            "CODE_SOURCES": {"acme.errors.WarehouseError": [
                CodeSource("acme", code="acme_code", verdict="retriable()",
                           message=r"code=(\w+)")]},
            "CODES": {"acme": {"WH-1": "TRANSIENT"}},
        })),
    ),
    min_size=1, max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packs=broken_packs, exc=anything)
def test_broken_third_party_packs_never_make_classify_raise(packs, exc):
    """Packs as `plugins.discover` hands them over (loaded, possibly broken)."""
    try:
        plugins._loaded = [(f"pack{i}", pack) for i, pack in enumerate(packs)]
        engine._layers = None
        knowledge._active = None
        assert_sound(classify(exc))
        assert_sound(classify(ValueError("x")))
    finally:
        plugins.forget()
        engine._layers = None
        knowledge._active = None
        plugins._loaded = []  # the real entry points again on the next reload


@settings(max_examples=300, deadline=None)
@given(value=retry_after_values)
def test_parse_retry_after_never_raises(value):
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


def test_ten_megabyte_message():
    exc = RuntimeError("x" * 10_000_000 + " deadlock detected")
    result = classify(exc)
    assert_sound(result)
    assert result.error_type is ErrorType.UNKNOWN  # only the first 4 KiB are read


def test_ten_thousand_links():
    exc: BaseException = ConnectionResetError("root")
    for i in range(10_000):
        outer = RuntimeError(f"link {i}")
        outer.__cause__ = exc
        exc = outer
    result = classify(exc)
    assert_sound(result)
    assert result.error_type is ErrorType.UNKNOWN  # the root is beyond the chain limit


def test_cycle_through_cause_and_context():
    a, b = RuntimeError("a"), KeyError("b")
    a.__cause__, b.__context__ = b, a
    assert classify(a).error_type is ErrorType.PERMANENT


def test_deeply_nested_and_wide_groups_stay_bounded():
    group: BaseException = ConnectionResetError("leaf")
    for _ in range(12):  # 64 ** 8 member visits without a budget
        group = ExceptionGroup("level", [group] * 64)
    assert_sound(classify(group))
    deep: BaseException = KeyError("leaf")
    for _ in range(1000):
        deep = ExceptionGroup("level", [deep])
    assert_sound(classify(deep))


def test_every_accessor_raising_at_once():
    namespace = {name: _raising_property(name) for name in ATTRIBUTES}
    namespace["__str__"] = _raising_property("__str__").fget
    namespace["__repr__"] = _raising_property("__repr__").fget
    cls = type("Nightmare", (OSError,), namespace)
    assert_sound(classify(cls()))
    assert_sound(classify(cls(), rules=[raising_rule, nonsense_rule]))


def test_hostile_retry_after_headers_on_a_real_status_error():
    httpx = pytest.importorskip("httpx")
    request = httpx.Request("GET", "https://api.example.test/")
    for value in ["", "-5", "1e999", "nan", "Wed, 21 Oct 10000 07:28:00 GMT", "\x00", "7" * 400]:
        response = httpx.Response(429, request=request, headers={"Retry-After": value})
        exc = httpx.HTTPStatusError("x", request=request, response=response)
        result = classify(exc)
        assert_sound(result)
        assert result.error_type is ErrorType.TRANSIENT


def test_every_attribute_raising_on_a_sourced_class():
    namespace = {name: _raising_property(name) for name in ATTRIBUTES if name != "args"}
    for module, name in [("pymysql.err", "MySQLError"), ("cimpl", "KafkaException"),
                         ("kubernetes.client.exceptions", "ApiException"),
                         ("smtplib", "SMTPResponseException")]:
        cls = type(name, (OSError,), {**namespace, "__module__": module})
        assert_sound(classify(cls(2013, "x")))
        args_raising = type(name, (Exception,), {"__module__": module,
                                                 "args": _raising_property("args")})
        assert_sound(classify(args_raising("x")))


def test_explain_never_raises_either():
    from prefect_failtrack.classification import explain

    namespace = {name: _raising_property(name) for name in ATTRIBUTES}
    cls = type("Nightmare", (OSError,), {**namespace, "__module__": "pymysql.err"})
    found = explain(cls())
    assert found.error_type in ErrorType.__members__
