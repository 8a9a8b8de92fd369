"""HTTP clients and statuses, with real errors: a local server answers with the status,
headers or misbehaviour each test asks for; port 1 refuses connections."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import http.server
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import aiohttp
import httpx
import pytest
import requests
import respx
import urllib3

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import raised as _raised

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION
REFUSED = "http://127.0.0.1:1/"
AIO, U3 = "aiohttp.client_exceptions", "urllib3.exceptions"


class _Handler(http.server.BaseHTTPRequestHandler):
    """/status/<code>?retry_after=..., /sleep, /hangup, /loop, /badgzip, /html."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path.startswith("/status/"):
            self.send_response(int(url.path.rsplit("/", 1)[1]))
            if "retry_after" in query:
                self.send_header("Retry-After", query["retry_after"])
            if url.path.endswith(("/301", "/302")):
                self.send_header("Location", "/status/200")
            self._body(b"status", "text/plain")
        elif url.path == "/sleep":
            time.sleep(float(query.get("s", "2")))
            self._body(b"late", "text/plain")
        elif url.path == "/hangup":
            self.close_connection = True
            self.connection.close()
        elif url.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self._body(b"", "text/plain")
        elif url.path == "/badgzip":
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self._body(b"this is not gzip at all", "text/plain")
        elif url.path == "/html":
            self.send_response(int(query.get("status", "200")))
            self._body(b"<html>oops</html>", "text/html")
        else:
            self.send_response(200)
            self._body(b"{}", "application/json")

    def _body(self, body: bytes, content_type: str) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients hang up on purpose here
        pass


def _serve(server: http.server.HTTPServer):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def server():
    srv = _serve(_Server(("127.0.0.1", 0), _Handler))
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """HTTPS with a self-signed certificate: every verifying client refuses it."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.socket = context.wrap_socket(srv.socket, server_side=True)
    _serve(srv)
    yield f"https://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


def _http_date(seconds_from_now: int) -> str:
    return email.utils.format_datetime(
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds_from_now), usegmt=True
    )


# --- HTTP status table ---------------------------------------------------------------

STATUS_CASES = [
    (400, V), (401, P), (403, P), (404, P), (405, P), (408, TO), (409, T), (410, P),
    (418, P), (422, V), (425, T), (429, T), (451, P), (500, T), (501, P), (502, T),
    (503, T), (504, TO), (505, P), (507, T), (599, T),
]


@pytest.mark.parametrize(("status", "expected"), STATUS_CASES)
def test_httpx_status_decides(status, expected):
    request = httpx.Request("GET", "https://api.example.test/items")
    response = httpx.Response(status, request=request)
    exc = _raised(response.raise_for_status)
    assert isinstance(exc, httpx.HTTPStatusError)
    result = classify(exc)
    assert result.error_type is expected
    assert result.reason == f"http {status}"
    assert result.retryable is expected.retryable


def test_httpx_unexpected_redirect_falls_to_the_generic_type():
    request = httpx.Request("GET", "https://api.example.test/items")
    exc = _raised(httpx.Response(302, request=request).raise_for_status)
    result = classify(exc)
    assert (result.error_type, result.reason) == (P, "type httpx.HTTPStatusError")


# --- Retry-After ----------------------------------------------------------------------

@respx.mock
def test_httpx_429_with_retry_after_seconds():
    respx.get("https://api.example.test/items").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "7"})
    )
    response = httpx.get("https://api.example.test/items")
    result = classify(_raised(response.raise_for_status))
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 429", 7.0)


@respx.mock
def test_httpx_503_with_retry_after_http_date():
    respx.get("https://api.example.test/items").mock(
        return_value=httpx.Response(503, headers={"Retry-After": _http_date(30)})
    )
    response = httpx.get("https://api.example.test/items")
    result = classify(_raised(response.raise_for_status))
    assert (result.error_type, result.reason) == (T, "http 503")
    assert 25 <= result.retry_after <= 30


@respx.mock
def test_httpx_retry_after_in_the_past_is_zero_and_garbage_is_ignored():
    route = respx.get("https://api.example.test/items")
    route.mock(return_value=httpx.Response(429, headers={"Retry-After": _http_date(-60)}))
    response = httpx.get("https://api.example.test/items")
    assert classify(_raised(response.raise_for_status)).retry_after == 0.0
    route.mock(return_value=httpx.Response(429, headers={"Retry-After": "soon, maybe"}))
    result = classify(_raised(httpx.get("https://api.example.test/items").raise_for_status))
    assert (result.error_type, result.retry_after) == (T, None)


def test_requests_429_with_retry_after(server):
    response = requests.get(f"{server}/status/429?retry_after=7", timeout=5)
    exc = _raised(response.raise_for_status)
    assert isinstance(exc, requests.HTTPError)
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 429", 7.0)


def test_requests_503_with_retry_after_http_date(server):
    date = urllib.parse.quote(_http_date(20))
    response = requests.get(f"{server}/status/503?retry_after={date}", timeout=5)
    result = classify(_raised(response.raise_for_status))
    assert (result.error_type, result.reason) == (T, "http 503")
    assert 15 <= result.retry_after <= 20


def test_requests_statuses(server):
    for status, expected in [(404, P), (422, V), (504, TO), (409, T)]:
        response = requests.get(f"{server}/status/{status}", timeout=5)
        result = classify(_raised(response.raise_for_status))
        assert (result.error_type, result.reason) == (expected, f"http {status}")


def test_aiohttp_429_with_retry_after(server):
    async def fetch(path):
        async with aiohttp.ClientSession(raise_for_status=True) as session:
            async with session.get(f"{server}{path}"):
                pass

    exc = _raised(asyncio.run, fetch("/status/429?retry_after=7"))
    assert isinstance(exc, aiohttp.ClientResponseError)
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 429", 7.0)
    date = urllib.parse.quote(_http_date(40))
    result = classify(_raised(asyncio.run, fetch(f"/status/503?retry_after={date}")))
    assert (result.error_type, result.reason) == (T, "http 503")
    assert 35 <= result.retry_after <= 40


def test_urllib_http_error_status(server):
    exc = _raised(urllib.request.urlopen, f"{server}/status/503?retry_after=3", timeout=5)
    assert isinstance(exc, urllib.error.HTTPError)
    result = classify(exc)
    assert (result.error_type, result.reason, result.retry_after) == (T, "http 503", 3.0)
    exc.close()


# --- httpx transport errors ---------------------------------------------------------------

def test_httpx_connection_refused():
    exc = _raised(httpx.get, REFUSED, timeout=5)
    assert type(exc) is httpx.ConnectError
    result = classify(exc)
    assert (result.error_type, result.reason) == (T, "type httpx.ConnectError")
    assert result.error_class == result.decided_by == "httpx.ConnectError"


def test_httpx_read_timeout(server):
    exc = _raised(httpx.get, f"{server}/sleep?s=1", timeout=httpx.Timeout(5, read=0.1))
    assert type(exc) is httpx.ReadTimeout
    assert (classify(exc).error_type, classify(exc).reason) == (TO, "type httpx.ReadTimeout")


@pytest.mark.parametrize("cls", [httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout])
def test_httpx_other_timeouts(cls):
    # built as httpx's transport builds them: a message and the request
    exc = cls("timed out", request=httpx.Request("GET", "https://api.example.test/"))
    result = classify(exc)
    assert (result.error_type, result.reason) == (TO, f"type httpx.{cls.__name__}")


def test_httpx_server_hung_up(server):
    exc = _raised(httpx.get, f"{server}/hangup", timeout=5)
    assert isinstance(exc, httpx.RemoteProtocolError)
    assert (classify(exc).error_type, classify(exc).reason) == (T, "type httpx.RemoteProtocolError")


def test_httpx_bad_urls():
    unsupported = _raised(httpx.get, "ftp://example.test/x")
    assert (classify(unsupported).error_type, classify(unsupported).reason) == (
        V, "type httpx.UnsupportedProtocol"
    )
    exc = _raised(httpx.URL, "http://\x00bad/")
    assert isinstance(exc, httpx.InvalidURL)
    assert (classify(exc).error_type, classify(exc).reason) == (V, "type httpx.InvalidURL")


def test_httpx_too_many_redirects_and_bad_encoding(server):
    with httpx.Client(follow_redirects=True, max_redirects=3, timeout=5) as client:
        exc = _raised(client.get, f"{server}/loop")
        result = classify(exc)
        assert (result.error_type, result.reason) == (P, "type httpx.TooManyRedirects")
        exc = _raised(client.get, f"{server}/badgzip")
        assert (classify(exc).error_type, classify(exc).reason) == (P, "type httpx.DecodingError")


def test_httpx_stream_misuse_is_permanent():
    response = httpx.Response(200, content=iter([b"x"]))
    exc = _raised(lambda: response.content)
    assert isinstance(exc, httpx.ResponseNotRead)
    assert classify(exc).error_type is P


def test_httpx_certificate_failure_is_permanent(tls_server):
    exc = _raised(httpx.get, tls_server, timeout=5)
    assert type(exc) is httpx.ConnectError
    result = classify(exc)
    assert result.error_type is P
    assert result.reason == "type httpx.ConnectError message 'certificate verify failed'"


# --- requests -----------------------------------------------------------------------------

def test_requests_connection_refused():
    exc = _raised(requests.get, REFUSED, timeout=5)
    assert type(exc) is requests.ConnectionError
    result = classify(exc)
    assert (result.error_type, result.reason) == (T, "type requests.exceptions.ConnectionError")


def test_requests_read_timeout(server):
    exc = _raised(requests.get, f"{server}/sleep?s=1", timeout=(5, 0.1))
    assert type(exc) is requests.ReadTimeout
    result = classify(exc)
    assert (result.error_type, result.reason) == (TO, "type requests.exceptions.ReadTimeout")


def test_requests_connect_timeout_is_a_timeout_not_a_connection_error():
    exc = requests.ConnectTimeout("Connection to 10.255.255.1 timed out. (connect timeout=1)")
    assert isinstance(exc, requests.ConnectionError)
    result = classify(exc)
    assert (result.error_type, result.reason) == (TO, "type requests.exceptions.ConnectTimeout")


def test_requests_bad_urls_are_validation():
    for url, cls in [("example.test/x", "MissingSchema"), ("http://", "InvalidURL"),
                     ("gopher://example.test", "InvalidSchema")]:
        result = classify(_raised(requests.get, url, timeout=5))
        assert (result.error_type, result.reason) == (V, f"type requests.exceptions.{cls}")


def test_requests_redirect_loop_and_json(server):
    with requests.Session() as session:
        session.max_redirects = 3
        result = classify(_raised(session.get, f"{server}/loop", timeout=5))
    assert (result.error_type, result.reason) == (P, "type requests.exceptions.TooManyRedirects")
    response = requests.get(f"{server}/html", timeout=5)
    result = classify(_raised(response.json))
    assert isinstance(_raised(response.json), requests.exceptions.JSONDecodeError)
    assert result.error_type is V


def test_requests_server_hung_up(server):
    exc = _raised(requests.get, f"{server}/hangup", timeout=5)
    assert isinstance(exc, requests.ConnectionError)
    assert classify(exc).error_type is T


def test_requests_certificate_failure_is_permanent(tls_server):
    exc = _raised(requests.get, tls_server, timeout=5)
    assert type(exc) is requests.exceptions.SSLError
    result = classify(exc)
    assert result.error_type is P
    assert result.reason == "type requests.exceptions.SSLError message 'certificate verify failed'"


# --- urllib3 ------------------------------------------------------------------------------

def test_urllib3_refused_without_and_with_retries():
    with urllib3.PoolManager() as pool:
        exc = _raised(pool.request, "GET", REFUSED, retries=False)
        assert type(exc) is urllib3.exceptions.NewConnectionError  # a ConnectTimeoutError subclass
        result = classify(exc)
        assert (result.error_type, result.reason) == (T, f"type {U3}.NewConnectionError")
        exc = _raised(pool.request, "GET", REFUSED, retries=urllib3.Retry(0))
        assert type(exc) is urllib3.exceptions.MaxRetryError
        result = classify(exc)  # judged by its .reason
        assert (result.error_type, result.reason) == (T, f"type {U3}.NewConnectionError")
        assert result.decided_by == "urllib3.exceptions.NewConnectionError"


def test_urllib3_read_timeout_and_bad_url(server):
    with urllib3.PoolManager() as pool:
        exc = _raised(pool.request, "GET", f"{server}/sleep?s=1", retries=False,
                      timeout=urllib3.Timeout(connect=5, read=0.1))
    result = classify(exc)
    assert (result.error_type, result.reason) == (TO, "type urllib3.exceptions.ReadTimeoutError")
    exc = _raised(urllib3.util.parse_url, "http://[::1")
    assert (classify(exc).error_type, classify(exc).reason) == (
        V, "type urllib3.exceptions.LocationValueError"
    )


def test_urllib3_certificate_failure_through_max_retries(tls_server):
    with urllib3.PoolManager() as pool:
        exc = _raised(pool.request, "GET", tls_server, retries=urllib3.Retry(0))
    assert type(exc) is urllib3.exceptions.MaxRetryError
    assert classify(exc).error_type is P


# --- aiohttp ------------------------------------------------------------------------------

async def _aio_get(url: str, **kwargs):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, **kwargs) as response:
            return await response.read()


def test_aiohttp_connection_refused():
    exc = _raised(asyncio.run, _aio_get(REFUSED))
    assert type(exc) is aiohttp.ClientConnectorError
    result = classify(exc)
    assert (result.error_type, result.reason) == (
        T, "type aiohttp.client_exceptions.ClientConnectorError"
    )


def test_aiohttp_read_timeout(server):
    exc = _raised(asyncio.run, _aio_get(f"{server}/sleep?s=1",
                                        timeout=aiohttp.ClientTimeout(sock_read=0.1)))
    assert isinstance(exc, aiohttp.ServerTimeoutError)
    assert classify(exc).error_type is TO


def test_aiohttp_total_timeout_is_the_builtin_timeout(server):
    exc = _raised(asyncio.run, _aio_get(f"{server}/sleep?s=1",
                                        timeout=aiohttp.ClientTimeout(total=0.1)))
    assert isinstance(exc, TimeoutError)
    assert classify(exc).error_type is TO


def test_aiohttp_invalid_url_and_redirect_loop(server):
    exc = _raised(asyncio.run, _aio_get("not a url"))
    assert isinstance(exc, aiohttp.InvalidURL)
    assert classify(exc).error_type is V
    exc = _raised(asyncio.run, _aio_get(f"{server}/loop", max_redirects=2))
    assert type(exc) is aiohttp.TooManyRedirects
    result = classify(exc)
    assert (result.error_type, result.reason) == (P, f"type {AIO}.TooManyRedirects")


def test_aiohttp_content_type_error_status_decides_first(server):
    async def json_of(url):
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                return await response.json()

    ok_but_html = _raised(asyncio.run, json_of(f"{server}/html?status=200"))
    assert type(ok_but_html) is aiohttp.ContentTypeError
    result = classify(ok_but_html)
    assert (result.error_type, result.reason) == (V, f"type {AIO}.ContentTypeError")
    gateway_page = _raised(asyncio.run, json_of(f"{server}/html?status=502"))
    assert (classify(gateway_page).error_type, classify(gateway_page).reason) == (T, "http 502")


def test_aiohttp_server_disconnected(server):
    exc = _raised(asyncio.run, _aio_get(f"{server}/hangup"))
    assert isinstance(exc, aiohttp.ServerDisconnectedError)
    assert classify(exc).error_type is T


def test_aiohttp_certificate_failure_is_permanent(tls_server):
    exc = _raised(asyncio.run, _aio_get(tls_server))
    assert type(exc) is aiohttp.ClientConnectorCertificateError
    result = classify(exc)
    assert (result.error_type, result.reason) == (
        P, "type aiohttp.client_exceptions.ClientConnectorCertificateError"
    )


# --- urllib / http.client -----------------------------------------------------------------

def test_urllib_refused_and_hangup(server):
    exc = _raised(urllib.request.urlopen, REFUSED, timeout=5)
    assert type(exc) is urllib.error.URLError
    result = classify(exc)  # URLError is generic; its .reason decides
    assert (result.error_type, result.decided_by) == (T, "ConnectionRefusedError")
    exc = _raised(urllib.request.urlopen, f"{server}/hangup", timeout=5)
    assert type(exc).__name__ == "RemoteDisconnected"
    assert classify(exc).error_type is T


def test_urllib_certificate_failure_is_permanent(tls_server):
    exc = _raised(urllib.request.urlopen, tls_server, timeout=5)
    assert type(exc) is urllib.error.URLError
    assert classify(exc).error_type is P
