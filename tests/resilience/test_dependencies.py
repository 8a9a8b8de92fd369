"""The dependency a failure names: real exceptions of real clients, raised against a closed port.

Port 1 on 127.0.0.1 refuses connections at once; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest

from prefect_failtrack.resilience.dependencies import declared, dependency_of, from_url, name

CLOSED = "127.0.0.1:1"


def raised(call: Any) -> BaseException:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001
        return exc
    raise AssertionError("it did not raise")


def test_httpx_names_scheme_host_and_port_never_the_path_or_secrets() -> None:
    import httpx

    exc = raised(lambda: httpx.get(f"http://user:secret@{CLOSED}/v1/rows?token=abc"))
    assert dependency_of(exc) == f"http://{CLOSED}"


def test_httpx_status_errors_name_the_request_url() -> None:
    import httpx

    request = httpx.Request("GET", "https://API.example.com/v1")
    response = httpx.Response(503, request=request)
    exc = raised(response.raise_for_status)
    assert dependency_of(exc) == "https://api.example.com:443"


def test_requests_and_urllib3() -> None:
    import requests
    import urllib3

    assert dependency_of(raised(lambda: requests.get(f"http://{CLOSED}/x"))) == f"http://{CLOSED}"
    pool = urllib3.PoolManager()
    https = raised(lambda: pool.request("GET", f"https://{CLOSED}/x", retries=False))
    assert dependency_of(https) == f"https://{CLOSED}"
    assert dependency_of(raised(lambda: pool.request("GET", f"http://{CLOSED}/x", retries=1))) \
        == f"http://{CLOSED}"


def test_aiohttp() -> None:
    import aiohttp

    async def get() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{CLOSED}/x"):
                pass

    assert dependency_of(raised(lambda: asyncio.run(get()))) == f"http://{CLOSED}"


def test_database_drivers_name_the_server() -> None:
    import psycopg
    import psycopg2
    import sqlalchemy

    dsn = "host=127.0.0.1 port=1 dbname=warehouse user=etl password=hunter2 connect_timeout=3"
    assert dependency_of(raised(lambda: psycopg.connect(dsn))) == "postgresql://127.0.0.1:1"
    assert dependency_of(raised(lambda: psycopg2.connect(dsn))) == "postgresql://127.0.0.1:1"
    engine = sqlalchemy.create_engine("postgresql+psycopg://etl:hunter2@127.0.0.1:1/warehouse")
    assert dependency_of(raised(engine.connect)) == "postgresql://127.0.0.1:1"


def test_asyncio_socket_errors_name_the_well_known_scheme() -> None:
    import asyncpg

    exc = raised(lambda: asyncio.run(asyncpg.connect("postgresql://etl@127.0.0.1:1/w")))
    assert dependency_of(exc) == "tcp://127.0.0.1:1"  # port 1 is nobody's
    assert dependency_of(ConnectionRefusedError(111, "Connect call failed ('10.0.0.5', 5432)")) \
        == "postgresql://10.0.0.5:5432"  # what asyncpg raises against a PostgreSQL port


def test_redis_and_botocore() -> None:
    import botocore.config
    import botocore.session
    import redis

    assert dependency_of(raised(redis.Redis(port=1).ping)) == "redis://localhost:1"
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=f"http://{CLOSED}", aws_access_key_id="a",
        aws_secret_access_key="b", config=botocore.config.Config(retries={"max_attempts": 0}),
    )
    assert dependency_of(raised(client.list_buckets)) == f"http://{CLOSED}"


def test_unknown_shapes_name_nothing_and_hostile_ones_do_not_raise() -> None:
    assert dependency_of(raised(lambda: urllib.request.urlopen(f"http://{CLOSED}/"))) is None
    assert dependency_of(ValueError("bad date")) is None
    assert dependency_of(None) is None

    class Hostile(Exception):
        def __getattribute__(self, item: str) -> Any:
            raise RuntimeError(item)

        def __str__(self) -> str:
            raise RuntimeError("str")

    assert dependency_of(Hostile()) is None


@pytest.mark.parametrize("url, expected", [
    ("https://api.example.com", "https://api.example.com:443"),
    ("http://[::1]:8080/x", "http://[::1]:8080"),
    ("redis://cache:6380/0", "redis://cache:6380"),
    ("no scheme", None),
    ("", None),
])
def test_from_url(url: str, expected: str | None) -> None:
    assert from_url(url) == expected


def test_name_prefers_the_scheme_of_a_well_known_port() -> None:
    assert name("tcp", "Db.Internal", 5432) == "postgresql://db.internal:5432"
    assert name("http", "api", 443) == "https://api:443"


def test_declared_dependencies() -> None:
    assert declared("  warehouse ", None) == "warehouse"
    assert declared(lambda p: f"warehouse/{p['schema']}", {"schema": "sales"}) == "warehouse/sales"
    assert declared(lambda p: None, {}) is None
    assert declared(lambda p: 42, {}) is None
    assert declared(lambda p: p["missing"], {}) is None  # raises: logged, no dependency
    assert declared(None, {"x": 1}) is None
