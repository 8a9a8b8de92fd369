"""The ten families failtrack knew before issue 14 (Python, HTTP clients, PostgreSQL,
SQLAlchemy, AWS, Google, Redis, validation, Prefect, messages): they must stay at their level."""

from __future__ import annotations

import errno
import json
import socket
import sqlite3

from . import D, P, T, TO, V, Case, raised


def cases() -> list[Case]:
    return [*_python(), *_http(), *_postgres(), *_aws(), *_google(), *_redis(), *_validation(),
            *_prefect(), *_messages()]


def _python() -> list[Case]:
    return [
        Case("python", lambda: ConnectionResetError(errno.ECONNRESET, "reset"), T, "reset"),
        Case("python", lambda: ConnectionRefusedError(errno.ECONNREFUSED, "refused"), T,
             "refused"),
        Case("python", lambda: TimeoutError("timed out"), TO, "timeout"),
        Case("python", lambda: socket.gaierror(-3, "Temporary failure in name resolution"), T,
             "DNS"),
        Case("python", lambda: FileNotFoundError(errno.ENOENT, "No such file", "/in.csv"), P,
             "ENOENT"),
        Case("python", lambda: PermissionError(errno.EACCES, "Permission denied"), P, "EACCES"),
        Case("python", lambda: OSError(errno.ENOSPC, "No space left on device"), P, "ENOSPC"),
        Case("python", lambda: OSError(errno.EPIPE, "Broken pipe"), T, "EPIPE"),
        Case("python", lambda: KeyError("customer_id"), P, "a bug"),
        Case("python", lambda: ValueError("invalid literal for int()"), V, "bad value"),
        Case("python", lambda: MemoryError(), T, "memory"),
        Case("python", lambda: raised(sqlite3.connect(":memory:").execute, "SELECT * FROM t"), P,
             "sqlite no such table"),
    ]


def _http() -> list[Case]:
    import httpx
    import requests

    request = httpx.Request("GET", "https://api.example.test/")

    def status(code: int, headers: dict | None = None):
        response = httpx.Response(code, request=request, headers=headers or {})
        return lambda: httpx.HTTPStatusError("x", request=request, response=response)

    def requests_status(code: int):
        def make():
            response = requests.Response()
            response.status_code = code
            return requests.HTTPError(f"{code}", response=response)

        return make

    return [
        Case("http", status(503), T, "503"), Case("http", status(429), T, "429"),
        Case("http", status(504), TO, "504"), Case("http", status(404), P, "404"),
        Case("http", status(401), P, "401"), Case("http", status(422), V, "422"),
        Case("http", status(409), T, "409 (no meaning stated)"),
        Case("http", lambda: httpx.ConnectTimeout("timed out", request=request), TO, "httpx"),
        Case("http", lambda: httpx.ConnectError("refused", request=request), T, "httpx"),
        Case("http", requests_status(502), T, "requests 502"),
        Case("http", requests_status(403), P, "requests 403"),
        Case("http", lambda: requests.exceptions.ReadTimeout("read timed out"), TO, "requests"),
        Case("http", lambda: requests.exceptions.MissingSchema("No scheme supplied"), V,
             "requests"),
    ]


def _postgres() -> list[Case]:
    import psycopg
    import sqlalchemy.exc

    def pg(code: str):
        return lambda: psycopg.errors.lookup(code)("server error")

    return [
        Case("postgres", pg("40001"), T, "serialization"),
        Case("postgres", pg("40P01"), T, "deadlock"),
        Case("postgres", pg("57014"), TO, "statement timeout"),
        Case("postgres", pg("42P01"), P, "undefined table"),
        Case("postgres", pg("23505"), V, "unique violation"),
        Case("postgres", pg("57P01"), T, "admin shutdown"),
        Case("postgres", lambda: psycopg.OperationalError(
            'connection failed: FATAL:  database "salse" does not exist'), P, "no database"),
        Case("postgres", lambda: psycopg.OperationalError("connection refused"), T, "refused"),
        Case("sqlalchemy", lambda: sqlalchemy.exc.OperationalError(
            "SELECT 1", {}, psycopg.errors.lookup("57014")("canceled")), TO,
             "wrapper around a timeout"),
        Case("sqlalchemy", lambda: sqlalchemy.exc.NoResultFound("No row was found"), P,
             "no row"),
        Case("sqlalchemy", lambda: sqlalchemy.exc.TimeoutError("QueuePool limit reached"), TO,
             "pool timeout"),
    ]


def _aws() -> list[Case]:
    import botocore.exceptions as b

    def client(code: str, status: int):
        return lambda: b.ClientError(
            {"Error": {"Code": code, "Message": code},
             "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    return [
        Case("aws", client("ThrottlingException", 400), T, "throttling"),
        Case("aws", client("SlowDown", 503), T, "S3 SlowDown"),
        Case("aws", client("NoSuchKey", 404), P, "missing key"),
        Case("aws", client("AccessDenied", 403), P, "access"),
        Case("aws", client("ValidationException", 400), V, "validation"),
        Case("aws", client("ProvisionedThroughputExceededException", 400), T, "DynamoDB"),
        Case("aws", client("SomethingNew", 500), T, "an unlisted code: its 500"),
        Case("aws", lambda: b.EndpointConnectionError(endpoint_url="https://s3.test"), T,
             "endpoint"),
        Case("aws", lambda: b.NoCredentialsError(), P, "no credentials"),
    ]


def _google() -> list[Case]:
    import google.api_core.exceptions as g

    return [
        Case("google", lambda: g.ServiceUnavailable("unavailable"), T, "503"),
        Case("google", lambda: g.DeadlineExceeded("deadline"), TO, "504"),
        Case("google", lambda: g.NotFound("missing"), P, "404"),
        Case("google", lambda: g.AlreadyExists("exists"), P, "409 exists"),
        Case("google", lambda: g.Aborted("aborted"), T, "409 aborted"),
        Case("google", lambda: g.TooManyRequests("quota"), T, "429"),
        Case("google", lambda: g.InvalidArgument("bad"), V, "400"),
    ]


def _redis() -> list[Case]:
    import redis.exceptions as r

    return [
        Case("redis", lambda: r.ConnectionError("Error 111 connecting"), T, "connection"),
        Case("redis", lambda: r.TimeoutError("Timeout reading from socket"), TO, "timeout"),
        Case("redis", lambda: r.BusyLoadingError("Redis is loading"), T, "loading"),
        Case("redis", lambda: r.AuthenticationError("invalid password"), P, "auth"),
        Case("redis", lambda: r.ResponseError("WRONGTYPE Operation against a key"), P, "command"),
        Case("redis", lambda: r.ReadOnlyError("You can't write against a read only replica"),
             T, "replica mid-failover"),
    ]


def _validation() -> list[Case]:
    import pydantic

    class Model(pydantic.BaseModel):
        n: int

    return [
        Case("validation", lambda: raised(Model, n="x"), V, "pydantic"),
        Case("validation", lambda: raised(json.loads, "{bad"), V, "json"),
    ]


def _prefect() -> list[Case]:
    import prefect.exceptions as pe

    return [
        Case("prefect", lambda: pe.UpstreamTaskError("Upstream task run 'x' did not reach a "
                                                     "'COMPLETED' state."), D, "upstream"),
        Case("prefect", lambda: pe.CrashedRun("crashed"), T, "crashed infrastructure"),
        Case("prefect", lambda: pe.CancelledRun("cancelled"), P, "cancelled"),
        Case("prefect", lambda: pe.ParameterTypeError("bad parameter"), V, "parameters"),
    ]


class VendorError(Exception):
    __module__ = "unknown_vendor"


def _messages() -> list[Case]:
    return [
        Case("messages", lambda: VendorError("upstream answered: rate limit exceeded"), T,
             "rate limit", states=False),
        Case("messages", lambda: VendorError("Service temporarily unavailable (HTTP 503)"), T,
             "503 in text", states=False),
        Case("messages", lambda: VendorError("deadlock detected"), T, "deadlock", states=False),
        Case("messages", lambda: VendorError("operation timed out after 30 s"), TO, "timed out",
             states=False),
        Case("messages", lambda: VendorError('duplicate key value violates unique constraint'),
             V, "constraint", states=False),
        Case("messages", lambda: VendorError("permission denied for table orders"), P,
             "permission", states=False),
    ]
