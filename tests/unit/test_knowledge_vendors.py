"""Databases, clouds and tools without a server here: real errors from closed ports and
in-process engines where possible (MongoDB, Oracle, ClickHouse, SSH, Trino, DuckDB, Arrow,
pandas, tenacity), the libraries' own classes built as the libraries build them otherwise
(Snowflake, Azure, Kubernetes, Docker, Google). Each expected class follows the library's
own retry semantics, cited in its knowledge module."""

from __future__ import annotations

import io
import json

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import decision as decided, closed_port, raised

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION


# ------------------------------------------------------------------------------ MongoDB

def test_mongodb_nothing_listening_is_a_timeout():
    pymongo = pytest.importorskip("pymongo")
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{closed_port()}",
                                 serverSelectionTimeoutMS=200)
    exc = raised(client.admin.command, "ping")
    assert type(exc).__name__ == "ServerSelectionTimeoutError" and exc.timeout is True
    assert classify(exc).error_type is TO


@pytest.mark.parametrize(
    ("code", "labels", "expected"),
    [
        (11600, [], (T, "mongodb code 11600")),  # InterruptedAtShutdown: retryable reads/writes
        (262, [], (TO, "mongodb code 262")),  # ExceededTimeLimit (never HTTP 262)
        (112, ["TransientTransactionError"], (T, "mongodb code 112")),  # WriteConflict
        (13, [], (P, "mongodb code 13")),  # Unauthorized
        (11000, [], (V, "mongodb code 11000")),  # DuplicateKey
        (99999, ["RetryableWriteError"], (T, "label RetryableWriteError")),  # unknown code
    ],
)
def test_mongodb_codes_and_labels(code, labels, expected):
    errors = pytest.importorskip("pymongo.errors")
    exc = errors.OperationFailure("failed", code=code, details={"errorLabels": labels})
    assert decided(exc) == expected


# ------------------------------------------------------------------------------- Oracle

def test_oracle_cannot_connect_is_transient():
    oracledb = pytest.importorskip("oracledb")
    exc = raised(oracledb.connect, user="u", password="p", dsn=f"127.0.0.1:{closed_port()}/x",
                 tcp_connect_timeout=2)
    assert exc.args[0].full_code == "DPY-6005"
    assert decided(exc) == (T, "oracle code DPY-6005")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("ORA-00060: deadlock detected while waiting for resource", T),
        ("ORA-01017: invalid username/password; logon denied", P),
        ("ORA-00942: table or view does not exist", P),
        ("ORA-12899: value too large for column", V),
        ("ORA-01013: user requested cancel of current operation", TO),
    ],
)
def test_oracle_numbers(message, expected):
    oracledb = pytest.importorskip("oracledb")
    assert classify(oracledb.DatabaseError(message)).error_type is expected


# --------------------------------------------------------------------------- ClickHouse

def test_clickhouse_driver_refused_is_transient():
    driver = pytest.importorskip("clickhouse_driver")
    client = driver.Client("127.0.0.1", port=closed_port(), connect_timeout=1)
    assert decided(raised(client.execute, "SELECT 1")) == (T, "clickhouse code 210")


@pytest.mark.parametrize(
    ("code", "expected"),
    [(241, T), (252, T), (159, TO), (60, P), (62, P), (6, V), (516, P)],
)
def test_clickhouse_server_codes(code, expected):
    errors = pytest.importorskip("clickhouse_driver.errors")
    exc = errors.ServerException("DB::Exception: ...", code=code)
    assert decided(exc) == (expected, f"clickhouse code {code}")
    connect = pytest.importorskip("clickhouse_connect.driver.exceptions")
    message = f"HTTPDriver received ClickHouse error code {code}\n Code: {code}. DB::Exception"
    assert classify(connect.DatabaseError(message)).error_type is expected


# ------------------------------------------------------------------------ Trino, Presto

@pytest.mark.parametrize(
    ("cls", "error", "expected"),
    [
        ("TrinoQueryError",
         {"errorName": "EXCEEDED_TIME_LIMIT", "errorType": "INSUFFICIENT_RESOURCES"}, TO),
        ("TrinoQueryError",
         {"errorName": "CLUSTER_OUT_OF_MEMORY", "errorType": "INSUFFICIENT_RESOURCES"}, T),
        ("TrinoUserError", {"errorName": "TABLE_NOT_FOUND", "errorType": "USER_ERROR"}, P),
        ("TrinoUserError", {"errorName": "INVALID_CAST_ARGUMENT", "errorType": "USER_ERROR"}, V),
        ("TrinoExternalError", {"errorName": "HIVE_SOMETHING_NEW", "errorType": "EXTERNAL"}, T),
        ("TrinoUserError", {"errorName": "SOME_NEW_USER_ERROR", "errorType": "USER_ERROR"}, P),
    ],
)
def test_trino_error_names_then_types(cls, error, expected):
    exceptions = pytest.importorskip("trino.exceptions")
    assert classify(getattr(exceptions, cls)(error, "q1")).error_type is expected


def test_trino_refused_is_transient():
    dbapi = pytest.importorskip("trino.dbapi")
    connection = dbapi.connect(host="127.0.0.1", port=closed_port(), user="u",
                               request_timeout=1, max_attempts=1)
    assert classify(raised(connection.cursor().execute, "SELECT 1")).error_type is T


# ---------------------------------------------------------------------------- Snowflake

@pytest.mark.parametrize(
    ("cls", "errno", "sqlstate", "expected"),
    [
        ("OperationalError", 250001, "08001", (T, "snowflake code 250001")),
        ("ProgrammingError", 2003, "02000", (P, "snowflake code 2003")),
        ("ProgrammingError", 630, "57014", (TO, "snowflake code 630")),
        ("DatabaseError", 390100, "08004", (P, "snowflake code 390100")),
        ("ProgrammingError", 100038, "22018", (V, "snowflake code 100038")),
        ("ProgrammingError", 999999, "57014", (TO, "sqlstate 57014")),  # unknown number
    ],
)
def test_snowflake_numbers_then_sqlstate(cls, errno, sqlstate, expected):
    errors = pytest.importorskip("snowflake.connector.errors")
    exc = getattr(errors, cls)(msg="failed", errno=errno, sqlstate=sqlstate)
    assert decided(exc) == expected


# ----------------------------------------------------------------- DuckDB, Arrow, pandas

def test_duckdb_real_errors():
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    assert classify(raised(connection.execute, "SELECT * FROM missing_14")).error_type is P
    assert classify(raised(connection.execute, "SELECT 'x'::INTEGER")).error_type is V
    assert classify(raised(connection.execute, "SELEC 1")).error_type is P
    assert classify(raised(connection.execute,
                           "SELECT * FROM read_csv('/nonexistent/14.csv')")).error_type is P


def test_arrow_and_pandas_parse_errors_are_validation():
    pa = pytest.importorskip("pyarrow")
    csv = pytest.importorskip("pyarrow.csv")
    pd = pytest.importorskip("pandas")
    found = [
        raised(csv.read_csv, io.BytesIO(b"a,b\n1,2\n3\n")),  # ArrowInvalid: CSV parse error
        raised(pa.array(["x"]).cast, pa.int64()),  # ArrowInvalid: Failed to parse string
        raised(pd.read_csv, io.StringIO("")),  # EmptyDataError
        raised(pd.read_csv, io.StringIO('a,b\n1,2\n"3,4\n')),  # ParserError
        raised(pd.to_datetime, "not a date"),  # DateParseError
    ]
    assert [classify(exc).error_type for exc in found] == [V] * 5
    assert classify(raised(pa.array([1]).cast, pa.month_day_nano_interval())).error_type is P


# ------------------------------------------------------------------------------ tenacity

def test_tenacity_judges_the_last_attempt():
    tenacity = pytest.importorskip("tenacity")

    @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
    def failing():
        raise ConnectionResetError(104, "Connection reset by peer")

    @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none(),
                    retry=tenacity.retry_if_result(lambda value: value is None))
    def never_ready():
        return None

    result = classify(raised(failing))
    assert (result.error_type, result.decided_by) == (T, "ConnectionResetError")
    assert decided(raised(never_ready)) == (TO, "type tenacity.RetryError")


# ------------------------------------------------------------------------ Azure, k8s, Docker

class _AzureResponse:
    def __init__(self, status, reason, headers=None):
        self.status_code, self.reason, self.headers = status, reason, headers or {}
        self.request = None

    def text(self, encoding=None):
        return ""


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (409, "ContainerAlreadyExists", (P, "cloud code ContainerAlreadyExists")),
        (409, "ContainerBeingDeleted", (T, "cloud code ContainerBeingDeleted")),
        (503, "ServerBusy", (T, "cloud code ServerBusy")),
        (500, "OperationTimedOut", (TO, "cloud code OperationTimedOut")),
        (503, None, (T, "http 503")),
    ],
)
def test_azure_error_codes_then_status(status, code, expected):
    exceptions = pytest.importorskip("azure.core.exceptions")
    exc = exceptions.HttpResponseError(message="failed", response=_AzureResponse(status, "x"))
    exc.error_code = code
    assert decided(exc) == expected


def test_azure_delay_from_its_headers():
    exceptions = pytest.importorskip("azure.core.exceptions")
    response = _AzureResponse(503, "busy", {"x-ms-retry-after-ms": "1500"})
    assert classify(exceptions.HttpResponseError(response=response)).retry_after == 1.5


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("AlreadyExists", P), ("Conflict", T), ("NotFound", P), ("Invalid", V), ("Expired", T)],
)
def test_kubernetes_status_reason_in_the_body(reason, expected):
    exceptions = pytest.importorskip("kubernetes.client.exceptions")
    exc = exceptions.ApiException(status=409, reason="Conflict")
    exc.body = json.dumps({"kind": "Status", "reason": reason, "code": 409})
    assert classify(exc).error_type is expected


@pytest.mark.parametrize(
    ("status", "explanation", "expected"),
    [
        (409, 'Conflict. The container name "/web" is already in use by container "ab"', P),
        (409, "removal of container ab is already in progress", T),
        (404, "No such container: web", P),
        (500, "driver failed programming external connectivity", T),
    ],
)
def test_docker_api_errors(status, explanation, expected):
    errors = pytest.importorskip("docker.errors")
    requests = pytest.importorskip("requests")
    response = requests.Response()
    response.status_code = status
    exc = errors.APIError(f"{status} error", response=response, explanation=explanation)
    assert classify(exc).error_type is expected


# ------------------------------------------------------------------------------- Google

def test_google_auth_refresh_error_states_if_it_is_retryable():
    exceptions = pytest.importorskip("google.auth.exceptions")
    assert decided(exceptions.RefreshError("503 from the token endpoint", retryable=True)) == (
        T, "retryable=True")
    assert decided(exceptions.RefreshError("invalid_grant: Bad Request")) == (
        P, "retryable=False")


def test_bigquery_rate_limit_on_a_403_is_transient():
    api = pytest.importorskip("google.api_core.exceptions")
    exc = api.Forbidden("Exceeded rate limits", errors=[{"reason": "rateLimitExceeded"}])
    assert decided(exc) == (T, "cloud code rateLimitExceeded")
    denied = api.Forbidden("Access Denied", errors=[{"reason": "accessDenied"}])
    assert classify(denied).error_type is P


# ----------------------------------------------------------------------------------- SSH

def test_ssh_nothing_listening_is_transient_and_bad_keys_permanent():
    paramiko = pytest.importorskip("paramiko")
    client = paramiko.SSHClient()
    exc = raised(client.connect, "127.0.0.1", port=closed_port(), timeout=2)
    assert type(exc).__name__ == "NoValidConnectionsError" and classify(exc).error_type is T
    assert classify(paramiko.AuthenticationException("Authentication failed.")).error_type is P
    assert decided(paramiko.ChannelException(1, "Administratively prohibited")) == (
        P, "ssh-channel code 1")
    assert classify(paramiko.SSHException("Error reading SSH protocol banner")).error_type is T
