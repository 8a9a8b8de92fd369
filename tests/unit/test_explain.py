"""`explain` and ``failtrack classify --explain``: every rule asked, the one that decided, the
facts read, and whether only text decided."""

from __future__ import annotations

import json

import pytest

from prefect_failtrack.classification import explain
from prefect_failtrack.classification.text import exception_from_expression
from prefect_failtrack.cli import main

pymysql = pytest.importorskip("pymysql")


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_vendor_code_decides_and_its_facts_are_shown():
    found = explain(pymysql.err.OperationalError(2013, "Lost connection to MySQL server"))
    assert (found.error_type, found.reason) == ("TRANSIENT", "mysql code 2013")
    assert found.decided_in == "specific: vendor codes (knowledge packs)"
    assert found.facts == {"space": "mysql", "code": 2013}
    assert not found.text_only


def test_every_layer_asked_is_listed_and_text_only_is_said():
    found = explain(RuntimeError("upstream answered: rate limit exceeded"))
    assert found.text_only and found.reason == "message 'rate limit'"
    layers = [step.layer for step in found.steps]
    assert layers.index("specific") < layers.index("generic types") < layers.index("messages")
    skipped = [s for s in found.steps if s.verdict and s.verdict.startswith("not asked")]
    assert skipped, "rules that need attributes the exception lacks are listed as not asked"


def test_the_chain_shows_what_each_link_states():
    try:
        try:
            raise pymysql.err.OperationalError(1969, "max_statement_time exceeded")
        except Exception as inner:
            raise RuntimeError("nightly load failed") from inner
    except RuntimeError as exc:
        found = explain(exc)
    assert [link.exception for link in found.chain] == [
        "RuntimeError", "pymysql.err.OperationalError"]
    assert found.chain[1].facts == {"space": "mysql", "code": 1969}
    assert (found.error_type, found.decided_by) == ("TIMEOUT", "pymysql.err.OperationalError")


def test_exceptions_from_python_expressions():
    exc = exception_from_expression("pymysql.err.OperationalError(1045, 'Access denied')")
    assert type(exc).__name__ == "OperationalError" and exc.args[0] == 1045
    assert type(exception_from_expression("KeyError")) is KeyError
    for not_one in ["ValueError: bad date", "no_such_name_14", "1 + 1", "(("]:
        assert exception_from_expression(not_one) is None


def test_cli_explain_in_lines_and_json(capsys):
    code, out, _ = run(capsys, "classify", "--explain",
                       "pymysql.err.OperationalError(1142, 'DELETE command denied')")
    assert code == 0
    assert out.startswith("PERMANENT (not retryable) — decided by 'mysql code 1142'")
    assert "facts: space='mysql', code=1142" in out
    code, out, _ = run(capsys, "classify", "--explain", "--json",
                       "RuntimeError: connection reset by peer")
    found = json.loads(out)
    assert code == 0 and found["text_only"] is True and found["error_type"] == "TRANSIENT"
    assert {"layer", "exception", "rule", "verdict"} == set(found["steps"][0])
    code, out, _ = run(capsys, "classify", "--explain", "httpx.ConnectTimeout: timed out")
    assert code == 0 and "TIMEOUT (retryable)" in out and "judged on the message" not in out
