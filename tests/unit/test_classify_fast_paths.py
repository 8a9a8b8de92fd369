"""The shortcuts `classify` takes give the answers the long way would.

1. Built-in rules that read attributes are not asked about exceptions without them
   (`Rule.needs`, `introspect.present_attributes`).
2. Message patterns are pre-filtered by their literal clues (`MessagePatterns`).
"""

from __future__ import annotations

import errno
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect_failtrack import ErrorType, classify
from prefect_failtrack.classification import introspect
from prefect_failtrack.classification.knowledge import (
    BUILTIN_GENERIC,
    BUILTIN_MESSAGES,
    BUILTIN_SPECIFIC,
    _listed,
)
from prefect_failtrack.classification.rules import MessagePatterns, literal_clues


class Plain(Exception):
    pass


class WithClassStatus(Exception):
    status_code = 503


class Computed(Exception):
    def __getattr__(self, name):
        if name == "status_code":
            return 429
        raise AttributeError(name)


class Lying(type):
    @property
    def __mro__(cls):  # what attribute lookup does not use
        return (cls, object)


class FromLyingMeta(Exception, metaclass=Lying):
    pass


class WithStatusProperty(Exception):
    @property
    def status(self):
        return 504


# ----------------------------------------------------------------- present attributes

def test_a_plain_exception_has_none_of_the_watched_attributes():
    assert introspect.present_attributes(ValueError("x")) == frozenset()
    assert introspect.present_attributes(Plain("x")) == frozenset()


def test_attributes_of_the_instance_and_of_its_classes_are_present():
    exc = Plain("x")
    exc.response = object()
    assert introspect.present_attributes(exc) == {"response"}
    assert introspect.present_attributes(WithClassStatus()) == {"status_code"}
    assert introspect.present_attributes(WithStatusProperty()) == {"status"}
    assert introspect.present_attributes(OSError(errno.EPIPE, "x")) == {"errno"}


def test_computed_attributes_make_everything_possible():
    assert introspect.present_attributes(Computed("x")) is None


def test_a_lying_metaclass_does_not_hide_the_real_bases():
    exc = FromLyingMeta("x")
    exc.sqlstate = "40001"
    assert introspect.present_attributes(exc) == {"sqlstate"}


def test_object_and_base_exception_carry_nothing_watched():
    for cls in (object, BaseException):
        assert not introspect.WATCHED_ATTRIBUTES & set(vars(cls))


def test_answers_do_not_change_with_the_shortcut():
    status = Plain("boom")
    status.response = type("Response", (), {"status_code": 503, "headers": {"Retry-After": "7"}})()
    assert (classify(status).reason, classify(status).retry_after) == ("http 503", 7.0)
    assert classify(WithClassStatus()).reason == "http 503"
    assert classify(WithStatusProperty()).reason == "http 504"
    assert classify(Computed("x")).reason == "http 429"
    late = ValueError("bad")
    late.failtrack_error_type = ErrorType.TRANSIENT
    assert classify(late).error_type is ErrorType.TRANSIENT
    pg = FromLyingMeta("x")
    pg.sqlstate = "40001"
    assert classify(pg).reason == "sqlstate 40001"


# ------------------------------------------------ what each built-in rule reads, declared

class Recording(Exception):
    """Records every attribute read on it; answers like an exception of a Google client."""

    __module__ = "google.api_core.exceptions"
    answers: dict = {}

    def __getattribute__(self, name):
        if not name.startswith("__"):
            type(self).reads.add(name)
        answers = object.__getattribute__(self, "answers")
        if name in answers:
            return answers[name]
        return super().__getattribute__(name)


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"response": {"Error": {"Code": "Nope"}, "ResponseMetadata": {"HTTPStatusCode": 503}}},
        {"response": type("R", (), {"status_code": 503, "headers": {}})()},
        {"code": 503, "reason": "rateLimitExceeded", "sqlstate": "99999", "errno": 5},
    ],
)
def test_built_in_rules_read_only_what_they_declare(answers):
    for layer in (BUILTIN_SPECIFIC, BUILTIN_GENERIC, BUILTIN_MESSAGES):
        for rule in layer.rules:
            recording = type("Rec", (Recording,), {"reads": set(), "answers": answers})
            exc = recording("message")
            rule(exc)
            declared = rule.needs if rule.needs is not None else frozenset()
            allowed = declared | introspect.DELAY_ATTRIBUTES
            assert recording.reads <= allowed, (rule, recording.reads)
            assert declared <= introspect.WATCHED_ATTRIBUTES


# ------------------------------------------------------------------- message clues

def test_clues_are_read_from_the_pattern():
    assert literal_clues(r"timed? ?out|deadline exceeded") == ("time", "deadline exceeded")
    assert literal_clues(r"rate[ -]?limit") == ("limit",)
    assert literal_clues(r"\d+") is None
    assert literal_clues(r"(?:a|\w+)") is None  # a branch without clues gives none
    assert literal_clues("\u017ftop") is None  # non-ASCII may match ASCII ("\u017f" ~ "s")
    assert literal_clues("(") is None  # not a pattern: no clues


def test_every_built_in_message_pattern_has_clues():
    for pattern, _, label in _listed("MESSAGES"):
        assert literal_clues(pattern), label


MESSAGE_RULE: MessagePatterns = BUILTIN_MESSAGES.rules[0]  # type: ignore[assignment]
CLUE_WORDS = sorted({clue for clue, _ in MESSAGE_RULE._clues()[1]})


def _the_long_way(message: str):
    match = MESSAGE_RULE.regex.search(message)
    if match is None:
        return None
    _, kind, label = MESSAGE_RULE.entries[int(match.lastgroup[1:])]
    return kind, label


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(CLUE_WORDS + [
                "HTTP 503", "error: 502", "Gateway Time-out", "ReadTimeout", "too many clients",
                "OOM-killed", "ſervice",
            ]),
            st.text(alphabet=string.ascii_letters + string.digits + " :-_./'\"\n", max_size=12),
        ),
        max_size=8,
    )
)
def test_clue_filtered_search_finds_what_the_full_alternation_finds(parts):
    message = " ".join(parts)
    assert MESSAGE_RULE.find(message) == _the_long_way(message)


def test_knowledge_test_messages_agree_both_ways():
    for message in [
        "Service temporarily unavailable (HTTP 503)",
        "while loading, the server said: duplicate key value violates unique constraint",
        "HTTPSConnectionPool(host='x', port=443): Read timed out. (read timeout=10)",
        "Upstream task run 'e3a1' did not reach a 'COMPLETED' state.",
        "nothing any rule knows",
        "ſervice unavailable",  # non-ASCII: the full alternation
        "",
    ]:
        assert MESSAGE_RULE.find(message) == _the_long_way(message), message


class RedefinedChain(Exception):
    @property
    def __cause__(self):
        raise RuntimeError("hostile")


def test_a_class_that_redefines_the_chain_takes_the_careful_path():
    exc = RedefinedChain("timed out")
    assert introspect.present_attributes(exc) is None
    assert [link for link in introspect.iter_chain(exc)] == [exc]
    assert classify(exc).reason == "message 'timed out'"


def test_answers_are_shared_but_equal_to_fresh_ones():
    first, second = classify(ValueError("a")), classify(ValueError("b"))
    assert first == second and first is second
    assert first.error_type is ErrorType.VALIDATION and first.reason == "type ValueError"
    delayed = Plain("x")
    delayed.failtrack_retry_after = 3
    delayed.failtrack_error_type = ErrorType.TRANSIENT
    assert classify(delayed).retry_after == 3.0
