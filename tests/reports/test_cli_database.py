"""The commands that read the audit database say which one they read, and read only one that
is there: a missing database or one without failtrack's schema is a one-line error, and
nothing is created (no file, no folder, no table). Only ``failtrack db upgrade`` creates."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, inspect

from prefect_failtrack.store.columns import HEAD_REVISION
from prefect_failtrack.store.database import alembic_config, dispose_engines, ensure_schema
from tests.db_fixtures import PG_HOST, PG_PORT, postgres_admin
from tests.reports.history import History
from tests.reports.test_cli_reports import run

READERS = [
    ["report"],
    ["patterns"],
    ["stuck"],
    ["runs"],
    ["timeline", str(uuid.uuid4())],
    ["classify", "--replay"],
    ["prune", "--older-than", "90d"],
    ["prune", "--older-than", "90d", "--yes"],
]
IDS = [" ".join(c[:1] + [a for a in c[1:] if a.startswith("--")]) for c in READERS]


def one_line(err: str, starts: str) -> None:
    assert err.startswith(f"failtrack: {starts}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv", READERS, ids=IDS)
@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "mysql://someone@db/audit",
        "notaurl",
        "sqlite:///{blocked}/audit.db",
    ],
    ids=["unreachable", "unsupported", "malformed", "under-a-file"],
)
def test_an_unusable_database_is_one_line(
    capsys, tmp_path: Path, argv: list[str], url: str
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    code, out, err = run(capsys, *argv, "--url", url.format(blocked=blocked / "sub"))
    assert (code, out) == (2, "")
    one_line(err, "the audit database cannot be used: ")


@pytest.mark.parametrize("argv", READERS, ids=IDS)
def test_a_missing_sqlite_file_is_an_error_and_nothing_is_created(
    capsys, tmp_path: Path, argv: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'typo' / 'audit.db'}"
    code, out, err = run(capsys, *argv, "--url", url)
    assert (code, out) == (2, "")
    one_line(
        err,
        f"the audit database cannot be used: there is no SQLite file "
        f"'{tmp_path / 'typo' / 'audit.db'}' (nothing was created): check the URL, or create "
        f"the audit database with `failtrack db upgrade --url {url}`",
    )
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_is_not_created_by_a_reader(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "failtrack-home"
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_HOME", str(home))
    monkeypatch.delenv("PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL", raising=False)
    code, out, err = run(capsys, "report")
    assert (code, out) == (2, "")
    missing = home / "failtrack.db"
    one_line(err, f"the audit database cannot be used: there is no SQLite file '{missing}'")
    assert not home.exists()
    code, out, _ = run(capsys, "db", "upgrade")  # the one command that creates it
    assert code == 0 and (home / "failtrack.db").is_file()
    code, out, _ = run(capsys, "report")
    assert code == 0 and out.startswith(f"Audit database: sqlite:///{home}/failtrack.db\n")
    dispose_engines()


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_an_error_and_is_not_created(capsys) -> None:
    admin = postgres_admin()
    name = f"failtrack_missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    code, out, err = run(capsys, "report", "--url", url)
    assert (code, out) == (2, "")
    one_line(err, "the audit database cannot be used: ")
    assert f'database "{name}" does not exist' in err and url in err
    with admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found is None
    dispose_engines()


def empty_database(database_url: str) -> None:
    """`database_url` is there, without failtrack's tables (SQLite: an empty file)."""
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()


def tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("argv", READERS, ids=IDS)
def test_a_database_without_failtracks_tables_says_to_upgrade(
    capsys, database_url: str, argv: list[str]
) -> None:
    empty_database(database_url)
    code, out, err = run(capsys, *argv, "--url", database_url)
    assert (code, out) == (2, "")
    one_line(
        err,
        f"the audit database cannot be used: {database_url} has no failtrack tables: "
        f"run `failtrack db upgrade --url {database_url}`",
    )
    assert tables(database_url) == []
    dispose_engines()


def test_a_database_at_an_older_revision_says_to_upgrade(capsys, database_url: str) -> None:
    ensure_schema(database_url)
    command.downgrade(alembic_config(database_url), "0001")
    dispose_engines()
    code, out, err = run(capsys, "report", "--url", database_url)
    assert (code, out) == (2, "")
    one_line(
        err,
        f"the audit database cannot be used: {database_url} is at schema revision '0001', this "
        f"failtrack reads {HEAD_REVISION!r}: run `failtrack db upgrade --url {database_url}`",
    )
    dispose_engines()


@pytest.mark.parametrize("argv", [a for a in READERS if a[0] != "timeline"], ids=IDS[:4] + IDS[5:])
def test_every_reader_names_its_database_on_stdout_or_on_stderr_with_json(
    capsys, database_url: str, engine: Engine, history: History, argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--url", database_url)
    assert (code, err) == (0, "") and out.startswith(f"Audit database: {database_url}\n")
    assert out.count("Audit database:") == 1
    code, out, err = run(capsys, *argv, "--url", database_url, "--json")
    assert (code, err) == (0, f"Audit database: {database_url}\n")
    assert out.startswith("{") and out.endswith("}\n") and out.count("\n") == 1


@pytest.mark.postgres
def test_the_password_is_never_shown(capsys, postgres_url: str) -> None:
    ensure_schema(postgres_url)
    # Trust authentication here: the server never asks for the password, it is only carried.
    secret = postgres_url.replace("postgres@", "postgres:s3cr3t-pw@")
    hidden = f"Audit database: {postgres_url.replace('postgres@', 'postgres:***@')}\n"
    code, out, err = run(capsys, "report", "--url", secret)
    assert code == 0 and out.startswith(hidden)
    code, out, err = run(capsys, "runs", "--url", secret, "--json")
    assert (code, err) == (0, hidden)
    assert "s3cr3t" not in out + err
    dispose_engines()
