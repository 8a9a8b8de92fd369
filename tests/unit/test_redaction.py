"""Redaction: secrets go, the context that makes an error debuggable stays.

Token-shaped fixtures are assembled at run time (``_j``) so that this file holds
no literal a secret scanner would flag.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prefect_failtrack import redaction
from prefect_failtrack.redaction import (
    FAILED,
    MARK,
    Redactor,
    get_redactor,
    is_secret_key,
    truncate,
)


def _j(*parts: str) -> str:
    return "".join(parts)


AWS_ID = _j("AKIA", "IOSFODNN7EXAMPLE")
AWS_SESSION_ID = _j("ASIA", "Y34FZKBOKMUTVV7A")
AWS_SECRET = _j("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCYEXAMPLEKEY")
GITHUB = _j("gh", "p_", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")
GITHUB_APP = _j("gh", "s_", "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa")
GITHUB_PAT = _j("github", "_pat_", "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH")
SLACK = _j("xo", "xb-", "2468013579-1357924680-AbCdEfGhIjKlMnOpQrStUvWx")
SLACK_HOOK = _j("T0ABC1234/B0DEF5678/", "abcdefGHIJKLmnopQRSTuvwx")
GOOGLE = _j("AI", "za", "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q")
GOOGLE_OAUTH = _j("ya", "29.", "a0AfH6SMBx7Yz-Q1w2e3r4t5y6u7i8o9p0")
JWT = _j(
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
    ".eyJzdWIiOiJldGwiLCJleHAiOjE3MDAwMDAwMDB9",
    ".c2lnbmF0dXJlLWJ5dGVzLXRoYXQtYXJlLWxvbmc",
)
STRIPE = _j("sk", "_live_", "51HxYzAbCdEfGhIjKlMnOpQr")
OPENAI = _j("sk", "-proj-", "Ab12Cd34Ef56Gh78Ij90Kl12Mn34")
PEM_BODY = _j("MIIEpAIBAAKCAQEA7Vb", "fJm1o8wq3cL0l9mWq7\nc2VjcmV0LWtleS1ib2R5LWJ5dGVz", "Zz0=")
SSH_BODY = _j("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "\nAAAAAAAAABAAAAMwAAAAtzc2gtZW")
PKCS8_ESCAPED = _j("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "\\nBKcwggSjAgEAAoIBAQC7")


def pem(kind: str, body: str) -> str:
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


@dataclass
class Case:
    text: str
    secrets: list[str]
    kept: list[str] = field(default_factory=list)


CORPUS: dict[str, Case] = {
    "postgresql-url": Case(
        "OperationalError: connection to postgresql://etl_user:Sup3r-S3cret!@db.prod.internal:5432/warehouse failed",
        ["Sup3r-S3cret!"],
        ["postgresql://etl_user:", "@db.prod.internal:5432/warehouse"],
    ),
    "postgresql-driver-url": Case(
        "engine for postgresql+psycopg://svc:p%40ssw0rd@10.0.3.17:5432/analytics?sslmode=require",
        ["p%40ssw0rd"],
        ["svc:", "10.0.3.17:5432/analytics", "sslmode=require"],
    ),
    "postgres-no-user": Case("dsn=postgres://:onlyPass123@pg-replica/db", ["onlyPass123"], ["@pg-replica/db"]),
    "password-with-at": Case(
        "could not parse postgresql://bob:p@ss@word@db.internal/app",
        ["p@ss@word", "ss@word"],
        ["bob:", "@db.internal/app"],
    ),
    "mysql-url": Case(
        "pymysql.err.OperationalError (1045) on mysql+pymysql://root:r00tPa55@mysql.internal:3306/orders",
        ["r00tPa55"],
        ["root:", "mysql.internal:3306/orders", "(1045)"],
    ),
    "redis-url": Case(
        "redis.exceptions.AuthenticationError for redis://:r3dis-pass@cache.internal:6379/0",
        ["r3dis-pass"],
        ["cache.internal:6379/0"],
    ),
    "rediss-url": Case(
        "rediss://default:AbC123xyz@redis-12345.c1.cloud.redislabs.com:12345 timed out",
        ["AbC123xyz"],
        ["default:", "redis-12345.c1.cloud.redislabs.com"],
    ),
    "amqp-url": Case(
        "Cannot connect to amqp://guest:rabbitSecret9@rabbitmq.internal:5672/%2F: [Errno 111]",
        ["rabbitSecret9"],
        ["rabbitmq.internal:5672", "guest:"],
    ),
    "amqps-url": Case(
        "consumer: Cannot connect to amqps://worker:Wk3r-t0ken@mq.example.com:5671//: timed out.",
        ["Wk3r-t0ken"],
        ["mq.example.com:5671"],
    ),
    "mongodb-srv": Case(
        "ServerSelectionTimeoutError: mongodb+srv://admin:M0ngoPass@cluster0.ab1cd.mongodb.net/sales?retryWrites=true&w=majority",
        ["M0ngoPass"],
        ["cluster0.ab1cd.mongodb.net/sales", "retryWrites=true", "w=majority"],
    ),
    "engine-repr": Case(
        "create_engine(url='postgresql://app:AppS3cret@db:5432/app', pool_size=5) failed",
        ["AppS3cret"],
        ["@db:5432/app", "pool_size=5"],
    ),
    "libpq-dsn": Case(
        "could not connect with 'host=db.internal port=5432 dbname=warehouse user=etl password=hunter2 sslmode=require'",
        ["hunter2"],
        ["host=db.internal", "dbname=warehouse", "user=etl", "password=", "sslmode=require"],
    ),
    "libpq-quoted": Case(
        "host=db.internal password='correct horse battery' dbname=warehouse",
        ["correct horse battery", "horse"],
        ["dbname=warehouse", "password='"],
    ),
    "odbc": Case(
        "Driver={ODBC Driver 18};Server=sql.internal;Database=crm;Uid=sa;Pwd=Sql$erver2024;Encrypt=yes",
        ["Sql$erver2024"],
        ["Database=crm", "Encrypt=yes", "Pwd="],
    ),
    "azure-storage": Case(
        "DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net",
        ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA"],
        ["AccountName=acmestore", "EndpointSuffix=core.windows.net"],
    ),
    "azure-sas": Case(
        "GET https://acme.blob.core.windows.net/raw/x.csv?sv=2022-11-02&sp=r&sig=q1W2e3R4t5Y6%2Bu7I8o9P0%3D returned 403",
        ["q1W2e3R4t5Y6%2Bu7I8o9P0%3D"],
        ["sv=2022-11-02", "sp=r", "returned 403"],
    ),
    "query-token": Case(
        "GET https://api.example.com/v1/export?token=tok_9f8e7d6c5b4a&format=csv returned 401",
        ["tok_9f8e7d6c5b4a"],
        ["api.example.com/v1/export", "token=", "&format=csv"],
    ),
    "query-access-token": Case(
        "https://graph.facebook.com/v18.0/me?access_token=EAAGm0PX4ZCpsBA123xyz&fields=id,name",
        ["EAAGm0PX4ZCpsBA123xyz"],
        ["access_token=", "fields=id"],
    ),
    "query-api-key": Case(
        "weather lookup failed: /data/2.5/weather?api_key=0123456789abcdef0123&city=Berlin",
        ["0123456789abcdef0123"],
        ["city=Berlin", "api_key="],
    ),
    "query-apikey": Case(
        "curl https://maps.example.com/geo?apikey=ak-77f3c2a1e9&q=Main+St",
        ["ak-77f3c2a1e9"],
        ["q=Main+St", "apikey="],
    ),
    "form-client-secret": Case(
        "POST /oauth/token body=grant_type=client_credentials&client_id=my-app&client_secret=s3cr3t-Val-42&scope=read",
        ["s3cr3t-Val-42"],
        ["client_id=my-app", "scope=read", "client_secret="],
    ),
    "json-password": Case(
        'POST /login failed with body {"username": "loader", "password": "Tr0ub4dor&3", "db": "sales"}',
        ["Tr0ub4dor&3", "Tr0ub4dor"],
        ['"username": "loader"', '"password": "', '"db": "sales"'],
    ),
    "json-api-key": Case(
        '{"apiKey": "AbCdEf123456", "region": "eu-west-1"}', ["AbCdEf123456"], ['"region": "eu-west-1"']
    ),
    "dict-repr": Case(
        "kwargs={'user': 'etl', 'password': 'pa ss word', 'host': 'db'}",
        ["pa ss word"],
        ["'user': 'etl'", "'host': 'db'"],
    ),
    "yaml": Case(
        "config error near line 3:\n  password: yamlSecret99\n  host: db", ["yamlSecret99"], ["host: db"]
    ),
    "plain-kv": Case("Login failed: password=hunter2 for user etl", ["hunter2"], ["for user etl"]),
    "passwd": Case('mysql_config: passwd="qwerty123", host="db"', ["qwerty123"], ['host="db"']),
    "env-aws-secret": Case(
        f"AWS_SECRET_ACCESS_KEY={AWS_SECRET} AWS_DEFAULT_REGION=eu-west-1",
        [AWS_SECRET],
        ["AWS_SECRET_ACCESS_KEY=", "AWS_DEFAULT_REGION=eu-west-1"],
    ),
    "aws-key-pair": Case(
        f"InvalidClientTokenId for {AWS_ID} / {AWS_SECRET} in eu-west-1",
        [AWS_ID, AWS_SECRET],
        ["[REDACTED:aws-access-key]", "eu-west-1"],
    ),
    "aws-credentials-file": Case(
        f"[default]\naws_access_key_id = {AWS_SESSION_ID}\naws_secret_access_key = {AWS_SECRET}\n"
        "aws_session_token = IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH\nregion = us-east-1",
        [AWS_SESSION_ID, AWS_SECRET, "IQoJb3JpZ2luX2VjEJr"],
        ["aws_secret_access_key = ", "aws_session_token = ", "region = us-east-1"],
    ),
    "authorization-bearer": Case(
        "HTTP 401 for GET https://api.example.com/v2/orders headers={'Authorization': 'Bearer 4f9a1c7e-ab12-cd34-9e0f'}",
        ["4f9a1c7e-ab12-cd34-9e0f"],
        ["'Authorization': 'Bearer ", "api.example.com/v2/orders"],
    ),
    "authorization-basic": Case(
        "Authorization: Basic ZXRsOmh1bnRlcjI=\nAccept: application/json",
        ["ZXRsOmh1bnRlcjI="],
        ["Authorization: Basic ", "Accept: application/json"],
    ),
    "proxy-authorization": Case(
        "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", ["dXNlcjpwYXNzd29yZA"], ["Proxy-Authorization: Basic"]
    ),
    "bearer-in-text": Case(
        f"retrying with Bearer {GOOGLE_OAUTH} after 401", [GOOGLE_OAUTH, "a0AfH6SMB"], ["after 401"]
    ),
    "cookie-header": Case(
        "Cookie: sessionid=abc123def456; csrftoken=xyz789uvw\nHost: app.example.com",
        ["abc123def456", "xyz789uvw"],
        ["Host: app.example.com"],
    ),
    "api-key-header": Case(
        "X-Api-Key: 9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d\nUser-Agent: etl/1.0",
        ["9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d"],
        ["X-Api-Key:", "User-Agent: etl/1.0"],
    ),
    "pem-rsa": Case(
        f"failed to load key:\n{pem('RSA ', PEM_BODY)}\nat /etc/ssl/app.key",
        ["MIIEpAIBAAKCAQEA7Vb", "c2VjcmV0LWtleS1ib2R5", "Zz0="],
        ["-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "at /etc/ssl/app.key"],
    ),
    "pem-pkcs8-in-json": Case(
        '{"type": "service_account", "project_id": "acme-data", "private_key_id": "abc123", '
        f'"private_key": "-----BEGIN PRIVATE KEY-----\\n{PKCS8_ESCAPED}\\n-----END PRIVATE KEY-----\\n", '
        '"client_email": "etl@acme-data.iam.gserviceaccount.com"}',
        ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7"],
        ['"project_id": "acme-data"', '"client_email": "etl@acme-data.iam.gserviceaccount.com"'],
    ),
    "pem-openssh": Case(
        f"paramiko.ssh_exception.SSHException: bad key\n{pem('OPENSSH ', SSH_BODY)}",
        ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "AAAAtzc2gtZW"],
        ["-----BEGIN OPENSSH PRIVATE KEY-----", "SSHException: bad key"],
    ),
    "pem-ec": Case(pem("EC ", PEM_BODY), ["MIIEpAIBAAKCAQEA7Vb"], ["-----END EC PRIVATE KEY-----"]),
    "pem-encrypted": Case(
        pem("ENCRYPTED ", PEM_BODY), ["c2VjcmV0LWtleS1ib2R5"], ["-----BEGIN ENCRYPTED PRIVATE KEY-----"]
    ),
    "pem-cut-off": Case(
        f"key was: -----BEGIN PRIVATE KEY-----\n{PEM_BODY[:30]}",
        [PEM_BODY[:30]],
        ["key was: -----BEGIN PRIVATE KEY-----"],
    ),
    "github-token-in-clone-url": Case(
        f"git clone https://{GITHUB}@github.com/acme/etl.git failed: exit status 128",
        [GITHUB],
        ["github.com/acme/etl.git", "exit status 128"],
    ),
    "github-x-access-token": Case(
        f"fatal: could not read from https://x-access-token:{GITHUB_APP}@github.com/acme/repo",
        [GITHUB_APP],
        ["x-access-token:", "github.com/acme/repo"],
    ),
    "github-pat": Case(f"GITHUB_TOKEN is {GITHUB_PAT} (expired)", [GITHUB_PAT], ["(expired)"]),
    "slack-token": Case(
        f"slack_sdk.errors.SlackApiError: invalid_auth (token {SLACK})", [SLACK], ["invalid_auth"]
    ),
    "slack-webhook": Case(
        f"POST https://hooks.slack.com/services/{SLACK_HOOK} returned 404",
        ["abcdefGHIJKLmnopQRSTuvwx"],
        ["https://hooks.slack.com/services/", "returned 404"],
    ),
    "discord-webhook": Case(
        "notify failed: https://discord.com/api/webhooks/1234567890/AbCdEf-GhIjKl_MnOp returned 401",
        ["AbCdEf-GhIjKl_MnOp"],
        ["https://discord.com/api/webhooks/", "returned 401"],
    ),
    "google-api-key": Case(
        f'HttpError 400 when requesting https://sheets.googleapis.com/v4/spreadsheets/1AbC?key={GOOGLE}&alt=json returned "API key not valid"',
        [GOOGLE],
        ["sheets.googleapis.com", "alt=json", "API key not valid"],
    ),
    "jwt": Case(f"JWT expired: {JWT} (exp 1700000000)", [JWT, "eyJzdWIiOiJldGwi"], ["JWT expired:"]),
    "stripe": Case(
        f"stripe.error.AuthenticationError: Invalid API Key provided: {STRIPE}",
        [STRIPE],
        ["Invalid API Key provided:"],
    ),
    "openai": Case(f"openai.AuthenticationError: Incorrect API key provided: {OPENAI}.", [OPENAI], []),
}

assert len(CORPUS) >= 40

ORDINARY = [
    "Connection refused: could not connect to db.internal:5432",
    'FATAL: password authentication failed for user "etl"',
    "KeyError: 'user_id'",
    "FileNotFoundError: [Errno 2] No such file or directory: '/opt/data/2024/01/orders.csv'",
    "Task run 'load-orders-7f3a' failed after 3 retries (id 123e4567-e89b-12d3-a456-426614174000)",
    "password_policy_version=3 min_length=12",
    "https://api.example.com:8443/v1/items?page=2&limit=50",
    "Basic auth is disabled for this endpoint",
    "Bearer authentication required",
    "Invalid token",
    "max_tokens=4096 exceeded for model gpt-4o",
    "token_count=17 tokens=512",
    "ValueError: invalid literal for int() with base 10: 'abc'",
    "s3://acme-raw/landing/2024-05-01/part-0001.parquet not found",
    "git commit 3f2a9c8e1b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39 is not on main",
    "Timeout after 30.0s talking to http://api.internal:8080/v2/orders",
    "User bob@example.com has no permission on table public.orders",
    "Secret 'db-creds' not found in namespace 'etl'",
    'IntegrityError: duplicate key value violates unique constraint "orders_pkey"',
    'File "/home/etl/flows/nightly.py", line 42, in load',
    "passwords must match",
    "AKIA prefix missing from key id",
    "Expected JSON object, got 'eyJ' prefix",
    "C:\\Users\\etl\\AppData\\Local\\Temp\\extract.csv is locked",
    "ssh://git@github.com/acme/etl.git: permission denied",
]


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.mark.parametrize("case", list(CORPUS.values()), ids=list(CORPUS))
def test_secret_goes_and_context_stays(redactor: Redactor, case: Case) -> None:
    out = redactor.redact(case.text)
    for secret in case.secrets:
        assert secret not in out, f"{secret!r} survived in {out!r}"
    for kept in case.kept:
        assert kept in out, f"{kept!r} lost from {out!r}"
    assert "[REDACTED" in out
    assert redactor.redact(out) == out  # idempotent: stored text can be redacted again


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://user:pw1@host/db", f"postgresql://user:{MARK}@host/db"),
        ("password=abc", f"password={MARK}"),
        ("Authorization: Bearer abc.def-123", f"Authorization: Bearer {MARK}"),
        ("authorization=opaque42", f"authorization={MARK}"),
        (f"id {AWS_ID}", "id [REDACTED:aws-access-key]"),
        (pem("", "abc"), f"-----BEGIN PRIVATE KEY-----{MARK}-----END PRIVATE KEY-----"),
        ("?token=abc&x=1", f"?token={MARK}&x=1"),
        ('"password": "a b"', f'"password": "{MARK}"'),
    ],
)
def test_marker_keeps_the_shape(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.redact(text) == expected


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_messages_survive_unchanged(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text) == text


def test_secret_inside_a_real_traceback(redactor: Redactor) -> None:
    dsn = "postgresql://loader:Tr4ceback-Secret@warehouse.internal:5432/dwh"

    def connect() -> None:
        raise ConnectionError(f"could not connect to {dsn}")

    try:
        try:
            connect()
        except ConnectionError as inner:
            raise RuntimeError(f"extract failed (dsn={dsn!r})") from inner
    except RuntimeError as exc:
        stack = "".join(traceback.format_exception(exc))
    assert stack.count("Tr4ceback-Secret") == 2
    out = redactor.redact(stack)
    assert "Tr4ceback-Secret" not in out
    assert "warehouse.internal:5432/dwh" in out
    assert "in connect" in out and "Traceback (most recent call last)" in out


def test_extra_patterns_whole_match_or_secret_group() -> None:
    redactor = Redactor([r"ACME-\d{8}", re.compile(r"ticket=(?P<secret>\w+)")])
    out = redactor.redact("customer ACME-12345678 opened ticket=T9k2 about password=x")
    assert out == f"customer {MARK} opened ticket={MARK} about password={MARK}"


def test_invalid_extra_pattern_raises_or_reports() -> None:
    with pytest.raises(ValueError, match="invalid redaction pattern"):
        Redactor(["(unclosed"])
    seen: list[str] = []
    redactor = Redactor(["(unclosed", r"ok-\d+"], on_invalid=lambda p, e: seen.append(p))
    assert seen == ["(unclosed"]
    assert redactor.redact("ok-42") == MARK


@pytest.fixture
def fresh_redactor_cache():
    get_redactor.cache_clear()
    yield
    get_redactor.cache_clear()


def test_get_redactor_reads_settings_once(monkeypatch, fresh_redactor_cache) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_REDACTION_PATTERNS", '["ACME-\\\\d{8}"]')
    redactor = get_redactor()
    assert get_redactor() is redactor
    assert redactor.redact("id ACME-12345678") == f"id {MARK}"


def test_get_redactor_warns_and_skips_invalid_pattern(monkeypatch, fresh_redactor_cache) -> None:
    monkeypatch.setenv("PREFECT_INTEGRATIONS_FAILTRACK_REDACTION_PATTERNS", '["([a-z", "ACME-\\\\d+"]')
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    redaction.logger.addHandler(handler)
    try:
        redactor = get_redactor()
    finally:
        redaction.logger.removeHandler(handler)
    assert redactor.redact("ACME-7 and password=1") == f"{MARK} and password={MARK}"
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "([a-z" in records[0].getMessage() and "unterminated" in records[0].getMessage()


def test_fails_closed_on_internal_error(monkeypatch, redactor: Redactor) -> None:
    def boom(m: re.Match[str]) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(redaction, "_BUILTIN", [(frozenset({"pass"}), re.compile("x"), boom)])
    assert redactor.redact("password=x") == FAILED
    assert redactor.redact_value({"a": "pass x"}) == {"a": FAILED}


def test_odd_inputs(redactor: Redactor) -> None:
    assert redactor.redact("") == ""
    assert redactor.redact("\ud800 password=abc \udfff") == f"\ud800 password={MARK} \udfff"
    assert redactor.redact(12345) == "12345"  # type: ignore[arg-type]


PATHOLOGICAL = {
    "letters": "a" * 1_000_000,
    "url-like": "://a:" * 200_000,
    "url-colons": "://" + "a:" * 500_000,
    "unterminated-quotes": 'password="x' * 90_000,
    "bearer": "Bearer " * 140_000,
    "jwt-prefix": "eyJ" * 333_000,
    "secret-word": "secret " * 140_000,
    "pem-begins": "-----BEGIN PRIVATE KEY-----" * 37_000,
    "pem-no-end": "-----BEGIN PRIVATE KEY-----" + "A" * 1_000_000,
    "keywords": "authorization bearer basic akia secret ghp_ xox aiza eyj sk- pass token key " * 13_000,
}


@pytest.mark.parametrize("text", list(PATHOLOGICAL.values()), ids=list(PATHOLOGICAL))
def test_megabyte_of_hostile_text_is_fast(redactor: Redactor, text: str) -> None:
    start = time.perf_counter()
    redactor.redact(text)
    assert time.perf_counter() - start < 3.0


SECRET_KEYS = ["password", "DB_PASSWORD", "passwd", "pwd", "secret", "client_secret", "clientSecret",
               "token", "access-token", "aws_session_token", "api_key", "apiKey", "X-Api-Key",
               "access_key", "secret_key", "SecretAccessKey", "Authorization", "credentials",
               "private_key", "PGPASSWORD", "Cookie"]  # fmt: skip
PLAIN_KEYS = ["password_policy_version", "max_tokens", "token_count", "user", "host", "keys",
              "private_key_id", "author", "secret_name_hint"]  # fmt: skip


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_plain_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_redact_value_walks_and_stays_json_safe(redactor: Redactor) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    value = {
        "rows": 1200,
        "ratio": 0.5,
        "ok": True,
        "nan": float("nan"),
        "password": "hunter2",
        "api-key": 12345,
        "token": None,
        "max_tokens": 4096,
        "nested": [{"dsn": "postgresql://u:pw9@h/db", "Authorization": "Bearer x"}, ("a", 1)],
        7: {"deep": {"clientSecret": {"any": "shape"}}},
        "obj": Unprintable(),
        "when": b"password=abc",
    }
    out = redactor.redact_value(value)
    json.dumps(out, allow_nan=False)
    assert out["rows"] == 1200 and out["ratio"] == 0.5 and out["ok"] is True and out["nan"] == "nan"
    assert out["password"] == MARK and out["api-key"] == MARK and out["token"] is None
    assert out["max_tokens"] == 4096
    assert out["nested"] == [{"dsn": f"postgresql://u:{MARK}@h/db", "Authorization": MARK}, ["a", 1]]
    assert out["7"] == {"deep": {"clientSecret": MARK}}
    assert out["obj"] == "<unprintable Unprintable>"
    assert "abc" not in out["when"]
    assert value["password"] == "hunter2"  # a copy, the input is untouched


def test_redact_value_is_bounded(redactor: Redactor) -> None:
    cyclic: list = []
    cyclic.append(cyclic)
    cyclic.append({"self": cyclic})
    assert redactor.redact_value(cyclic) == ["[cycle]", {"self": "[cycle]"}]

    deep: list = []
    for _ in range(1000):
        deep = [deep]
    json.dumps(redactor.redact_value(deep))

    wide: list = []  # 2**40 paths through shared lists: the node budget stops the walk
    for _ in range(40):
        wide = [wide, wide]
    start = time.perf_counter()
    json.dumps(redactor.redact_value(wide))
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("limit", [0, 5, 30, 100, 2000])
def test_truncate_stays_within_limit(limit: int) -> None:
    text = "x" * 12_345
    out = truncate(text, limit)
    assert out is not None and len(out) <= limit
    if limit >= 100:
        assert out.endswith(f"… [truncated {12_345 - out.index('…')} chars]")


def test_truncate_leaves_short_text_and_none() -> None:
    assert truncate(None, 10) is None
    assert truncate("short", 10) == "short"
    assert truncate("x" * 10, 10) == "x" * 10


# Plantable secrets: the snippet as it appears in text, and the part that must not survive.
PLANTED = [
    ("postgresql://etl:Pl4nted-Secret@db/x", "Pl4nted-Secret"),
    ("redis://:Pl4ntedRedis@cache:6379", "Pl4ntedRedis"),
    ("password=Pl4ntedPwd", "Pl4ntedPwd"),
    ('"password": "Pl4nted Json"', "Pl4nted Json"),
    ("?access_token=Pl4ntedTok&x=1", "Pl4ntedTok"),
    ("Authorization: Bearer Pl4nted.Bearer-1", "Pl4nted.Bearer-1"),
    (AWS_ID, AWS_ID),
    (f"aws_secret_access_key={AWS_SECRET}", AWS_SECRET),
    (pem("RSA ", PEM_BODY), "c2VjcmV0LWtleS1ib2R5"),
    (GITHUB, GITHUB),
    (SLACK, SLACK),
    (GOOGLE, GOOGLE),
    (JWT, JWT),
    (STRIPE, STRIPE),
    (f"https://hooks.slack.com/services/{SLACK_HOOK}", SLACK_HOOK),
]
SEPARATORS = st.sampled_from([" ", "\n", "\t", ", ", "; ", " (", ") ", ": "])
TEXT = st.text(max_size=200)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_redact_never_raises(redactor: Redactor, text: str) -> None:
    out = redactor.redact(text)
    assert isinstance(out, str) and out != FAILED


@settings(max_examples=500, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=TEXT, suffix=TEXT, before=SEPARATORS, after=SEPARATORS, planted=st.sampled_from(PLANTED))
def test_planted_secret_never_survives(
    redactor: Redactor, prefix: str, suffix: str, before: str, after: str, planted: tuple[str, str]
) -> None:
    snippet, secret = planted
    out = redactor.redact(prefix + before + snippet + after + suffix)
    assert secret not in out


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
))  # fmt: skip
def test_redact_value_always_json_safe(redactor: Redactor, value: object) -> None:
    json.dumps(redactor.redact_value(value), allow_nan=False)
