"""The failtrack command: answers, and one clear line with exit 2 for bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prefect_failtrack.store.columns import HEAD_REVISION
from prefect_failtrack.cli import main, parse_duration, CLIError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_classify_names_the_class_and_the_rule(capsys) -> None:
    code, out, _ = run(capsys, "classify", "httpx.ConnectTimeout: timed out")
    assert code == 0
    assert out.strip() == "TIMEOUT (retryable) — decided by 'type httpx.ConnectTimeout'"


def test_classify_json(capsys) -> None:
    code, out, _ = run(capsys, "classify", "--json", "ValueError: bad date")
    assert code == 0
    assert json.loads(out) == {
        "error_type": "VALIDATION", "retryable": False, "reason": "type ValueError",
        "error_class": "ValueError", "retry_after": None,
    }


def test_classify_unknown_module_still_matches_by_dotted_name(capsys) -> None:
    code, out, _ = run(capsys, "classify", "--json", "botocore.exceptions.NoCredentialsError: x")
    assert code == 0 and json.loads(out)["error_type"] == "PERMANENT"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["classify", "oops"], "cannot read an exception from 'oops'"),
        (["reconcile", "--since", "1x"], "malformed duration '1x'"),
        (["db", "upgrade", "--url", "notaurl"], "the audit database cannot be used"),
        (
            ["db", "upgrade", "--url", "postgresql+psycopg://postgres@127.0.0.1:1/nope"],
            "the audit database cannot be used",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith(f"failtrack: {message}")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_db_upgrade_is_idempotent(capsys, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    code, out, _ = run(capsys, "db", "upgrade", "--url", url)
    assert code == 0 and "Upgraded audit schema" in out and f"from None to {HEAD_REVISION!r}" in out
    code, out, _ = run(capsys, "db", "upgrade", "--url", url)
    assert code == 0 and f"is up to date (revision {HEAD_REVISION!r})" in out


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604800), ("1.5h", 5400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_no_arguments_prints_help(capsys) -> None:
    code, out, _ = run(capsys)
    assert code == 0 and "Commands" in out and "classify" in out


def test_version(capsys) -> None:
    from prefect_failtrack import __version__

    assert run(capsys, "version")[1].strip() == __version__
    with pytest.raises(CLIError):
        parse_duration("soon")


def commands(app=None, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command of the app, sub-apps included (``db upgrade``), as argv prefixes."""
    from prefect_failtrack.cli import app as root

    app = app or root
    found = []
    for name in app:
        if name.startswith("-") or name == "help":
            continue
        sub = app[name]
        found.append((*prefix, name))
        if any(not n.startswith("-") and n != "help" for n in sub):
            found.extend(commands(sub, (*prefix, name)))
    return found


def test_every_command_lists_the_commands_it_was_given() -> None:
    names = {" ".join(c) for c in commands()}
    assert {"report", "dead-letters", "requeue", "circuits", "db upgrade", "collect"} <= names


SAMPLE = {"STR": "1h", "INT": "1", "FLOAT": "1.5"}


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_option_of_every_command_binds(capsys, command: tuple[str, ...]) -> None:
    """Each option given alone binds, or is refused as input (a missing argument, a value
    out of range): never a traceback. cyclopts resolves a dataclass option's annotations
    only then, the shared options subclassed in another module included."""
    from cyclopts import CycloptsError

    from prefect_failtrack.cli import app

    code, usage, err = run(capsys, *command, "--help")
    assert (code, err) == (0, "") and "Usage: failtrack" in usage
    options = re.findall(r"(--[\w-]+) (STR|INT|FLOAT)\b", usage)
    assert options or command in {("classify",), ("version",), ("db",), ("db", "upgrade")}, usage
    for option, kind in options:
        try:
            app.parse_args([*command, option, SAMPLE[kind]], exit_on_error=False, print_error=False)
        except CycloptsError:
            pass  # bad input for this command: reported on one line by main()
