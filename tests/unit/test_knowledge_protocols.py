"""Protocols, with servers the tests start and stop on 127.0.0.1: a gRPC generic handler, an
SMTP server (aiosmtpd), an FTP server (pyftpdlib); TLS spoken to a plain port. The reply
codes decide before the ``OSError`` base class (RFC 5321 §4.2.1, RFC 959 §4.2; gRPC's status
codes: knowledge/generic.py)."""

from __future__ import annotations

import ftplib
import imaplib
import poplib
import smtplib
import socket
import ssl
import threading
import time

import pytest

from prefect_failtrack import ErrorType, classify
from tests.unit.knowledge_helpers import decision as decided, closed_port, raised

grpc = pytest.importorskip("grpc")
aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
pyftpdlib_servers = pytest.importorskip("pyftpdlib.servers")

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION


# ------------------------------------------------------------------------------- gRPC

class _Handler(grpc.GenericRpcHandler):
    """/t/<STATUS> answers with that status; /t/SLOW sleeps past the client's deadline."""

    def service(self, details):
        name = details.method.rsplit("/", 1)[-1]

        def behave(request, context):
            if name == "SLOW":
                time.sleep(1)
                return b""
            context.abort(getattr(grpc.StatusCode, name), f"failtrack test: {name}")

        return grpc.unary_unary_rpc_method_handler(behave)


@pytest.fixture(scope="module")
def grpc_channel():
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((_Handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield channel
    channel.close()
    server.stop(None)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UNAVAILABLE", T),  # "most likely a transient condition" (statuscodes.md)
        ("RESOURCE_EXHAUSTED", T),
        ("ABORTED", T),
        ("NOT_FOUND", P),
        ("ALREADY_EXISTS", P),
        ("PERMISSION_DENIED", P),
        ("UNAUTHENTICATED", P),
        ("INVALID_ARGUMENT", V),
        ("FAILED_PRECONDITION", P),
        ("INTERNAL", T),
    ],
)
def test_grpc_status_of_a_real_call(grpc_channel, status, expected):
    call = grpc_channel.unary_unary(f"/t/{status}")
    exc = raised(call, b"", timeout=5)
    assert exc.code() is getattr(grpc.StatusCode, status)
    assert decided(exc) == (expected, f"grpc {status}")


def test_grpc_deadline_is_timeout(grpc_channel):
    exc = raised(grpc_channel.unary_unary("/t/SLOW"), b"", timeout=0.2)
    assert decided(exc) == (TO, "grpc DEADLINE_EXCEEDED")


def test_grpc_nothing_listening_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        exc = raised(channel.unary_unary("/t/X"), b"", timeout=2)
    assert classify(exc).error_type is T  # UNAVAILABLE


# ------------------------------------------------------------------------------- SMTP

class _SmtpHandler:
    """Refuses recipients by their local part: t451@ (greylisting), p550@ (no mailbox)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("t451"):
            return "451 4.7.1 Greylisted, try again later"
        if address.startswith("p550"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class _Authenticator:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=False, handled=False)


@pytest.fixture(scope="module")
def smtp_port():
    port = closed_port()
    controller = aiosmtpd_controller.Controller(
        _SmtpHandler(), hostname="127.0.0.1", port=port, authenticator=_Authenticator(),
        auth_require_tls=False,
    )
    controller.start()
    yield port
    controller.stop()


def test_smtp_reply_codes_decide_over_oserror(smtp_port):
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as client:
        client.ehlo()
        auth = raised(client.login, "user", "wrong")
        assert isinstance(auth, OSError) and auth.smtp_code == 535
        assert decided(auth) == (P, "smtp code 535")
        refused = raised(client.sendmail, "a@example.test", ["p550@example.test"], "hi")
        assert decided(refused) == (P, "smtp code 550")  # SMTPRecipientsRefused
        later = raised(client.sendmail, "a@example.test", ["t451@example.test"], "hi")
        assert decided(later) == (T, "smtp code 451")


def test_smtp_disconnected_is_transient():
    exc = raised(smtplib.SMTP().ehlo)  # never connected: "please run connect() first"
    assert classify(exc).error_type is T


# -------------------------------------------------------------------------------- FTP

@pytest.fixture(scope="module")
def ftp_port(tmp_path_factory):
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler

    home = tmp_path_factory.mktemp("ftp")
    authorizer = DummyAuthorizer()
    authorizer.add_user("user", "secret", str(home), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = pyftpdlib_servers.ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    yield server.socket.getsockname()[1]
    server.close_all()


def test_ftp_reply_codes(ftp_port):
    client = ftplib.FTP()
    client.connect("127.0.0.1", ftp_port, timeout=5)
    login = raised(client.login, "user", "wrong")
    assert decided(login) == (P, "ftp code 530")
    client.login("user", "secret")
    missing = raised(client.retrbinary, "RETR no-such-file.csv", lambda _: None)
    assert decided(missing) == (P, "ftp code 550")
    client.close()
    assert decided(ftplib.error_temp("421 Too many connections")) == (T, "ftp code 421")


# ------------------------------------------------------------ TLS, IMAP, POP3, http.client

def _plain_http_server() -> tuple[socket.socket, int]:
    """Answers whatever it receives with a plain-text HTTP reply, as a non-TLS port would."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        try:
            conn, _ = listener.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                time.sleep(0.5)
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return listener, listener.getsockname()[1]


def test_tls_to_a_plain_port_is_permanent():
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    listener, port = _plain_http_server()
    with listener, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        exc = raised(context.wrap_socket, sock)
    assert isinstance(exc, ssl.SSLError) and exc.reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST")
    assert classify(exc).error_type is P  # TLS to a port that does not speak it: configuration


def test_openssl_reasons_decide():
    wrong = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    wrong.reason = "WRONG_VERSION_NUMBER"
    assert decided(wrong) == (P, "openssl code WRONG_VERSION_NUMBER")
    eof = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")
    eof.reason = "UNEXPECTED_EOF_WHILE_READING"
    assert decided(eof) == (T, "openssl code UNEXPECTED_EOF_WHILE_READING")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (imaplib.IMAP4.error("b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'"), P),
        (imaplib.IMAP4.error("b'[UNAVAILABLE] Temporary server failure'"), T),
        (imaplib.IMAP4.abort("socket error: EOF"), T),
        (poplib.error_proto("-ERR [IN-USE] Mailbox locked by another session"), T),
        (poplib.error_proto("-ERR [AUTH] Authentication failed"), P),
    ],
)
def test_imap_and_pop3_response_codes(exc, expected):
    assert classify(exc).error_type is expected


def test_http_client_misuse_is_permanent():
    import http.client

    assert classify(http.client.CannotSendRequest("Request-sent")).error_type is P
    assert classify(http.client.RemoteDisconnected("closed")).error_type is T
