"""gRPC, SMTP, FTP, IMAP, POP3, TLS, http.client, urllib.error, xmlrpc, SSH."""

from __future__ import annotations

from . import P, T, TO, V, Case


def cases() -> list[Case]:
    return [*_grpc(), *_mail_and_files(), *_tls_and_http(), *_ssh()]


def _grpc() -> list[Case]:
    import grpc
    from grpc.aio import AioRpcError, Metadata

    def rpc(code):
        return lambda: AioRpcError(code, Metadata(), Metadata(), f"{code.name} from server")

    S = grpc.StatusCode
    # grpc/doc/statuscodes.md; google.rpc.Code's HTTP mapping
    table = [(S.UNAVAILABLE, T), (S.DEADLINE_EXCEEDED, TO), (S.RESOURCE_EXHAUSTED, T),
             (S.ABORTED, T), (S.INTERNAL, T), (S.UNKNOWN, T), (S.NOT_FOUND, P),
             (S.ALREADY_EXISTS, P), (S.PERMISSION_DENIED, P), (S.UNAUTHENTICATED, P),
             (S.INVALID_ARGUMENT, V), (S.OUT_OF_RANGE, V), (S.FAILED_PRECONDITION, P),
             (S.UNIMPLEMENTED, P), (S.CANCELLED, P), (S.DATA_LOSS, P)]
    return [Case("grpc", rpc(code), kind, f"status {code.name}") for code, kind in table]


def _mail_and_files() -> list[Case]:
    import ftplib
    import imaplib
    import poplib
    import smtplib

    return [
        Case("smtp", lambda: smtplib.SMTPAuthenticationError(
            535, b"5.7.8 Username and Password not accepted"), P, "535 (RFC 5321: 5yz)"),
        Case("smtp", lambda: smtplib.SMTPRecipientsRefused(
            {"a@x.test": (550, b"5.1.1 User unknown")}), P, "550 recipient refused"),
        Case("smtp", lambda: smtplib.SMTPRecipientsRefused(
            {"a@x.test": (450, b"4.2.0 Greylisted")}), T, "450 greylisting (4yz)"),
        Case("smtp", lambda: smtplib.SMTPSenderRefused(
            451, b"4.3.0 Temporary system failure", "a@x.test"), T, "451 sender (4yz)"),
        Case("smtp", lambda: smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), P,
             "554"),
        Case("smtp", lambda: smtplib.SMTPDataError(452, b"4.3.1 Insufficient storage"), T,
             "452"),
        Case("smtp", lambda: smtplib.SMTPConnectError(421, b"Service not available"), T,
             "421 at connect"),
        Case("smtp", lambda: smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
             T, "disconnected"),
        Case("smtp", lambda: smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported"),
             P, "the server lacks the extension"),
        Case("smtp", lambda: smtplib.SMTPSenderRefused(
            553, b"5.1.8 Sender address rejected: malformed", "x"), V, "553 address syntax"),
        Case("ftp", lambda: ftplib.error_perm("530 Login incorrect."), P, "530"),
        Case("ftp", lambda: ftplib.error_perm("550 /in/x.csv: No such file or directory"), P,
             "550"),
        Case("ftp", lambda: ftplib.error_temp("421 Too many users, sorry"), T, "421"),
        Case("ftp", lambda: ftplib.error_temp("425 Can't open data connection"), T, "425"),
        Case("ftp", lambda: ftplib.error_reply("227 Entering Passive Mode garbage"), P,
             "unexpected reply"),
        Case("imap", lambda: imaplib.IMAP4.error(
            "b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'"), P, "RFC 5530 code"),
        Case("imap", lambda: imaplib.IMAP4.error("b'[UNAVAILABLE] Try again later'"), T,
             "[UNAVAILABLE]"),
        Case("imap", lambda: imaplib.IMAP4.abort("command: SELECT => socket error: EOF"), T,
             "abort: reconnect"),
        Case("imap", lambda: imaplib.IMAP4.error("b'[NONEXISTENT] Unknown Mailbox: Archive'"), P,
             "[NONEXISTENT]"),
        Case("pop3", lambda: poplib.error_proto("-ERR [IN-USE] Do you have another POP session?"),
             T, "RFC 2449 [IN-USE]"),
        Case("pop3", lambda: poplib.error_proto("-ERR [AUTH] Invalid login"), P, "[AUTH]"),
    ]


def _tls_and_http() -> list[Case]:
    import http.client
    import ssl
    import urllib.error
    import xmlrpc.client

    def ssl_error(cls, reason: str, text: str):
        def make():
            exc = cls(1, f"[SSL: {reason}] {text} (_ssl.c:1006)")
            exc.reason, exc.library = reason, "SSL"
            return exc

        return make

    return [
        Case("tls", ssl_error(ssl.SSLError, "WRONG_VERSION_NUMBER", "wrong version number"), P,
             "TLS spoken to a plain port"),
        Case("tls", ssl_error(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION",
                              "tlsv1 alert protocol version"), P, "protocol version refused"),
        Case("tls", ssl_error(ssl.SSLError, "SSLV3_ALERT_HANDSHAKE_FAILURE",
                              "sslv3 alert handshake failure"), P, "no common cipher"),
        Case("tls", ssl_error(ssl.SSLEOFError, "UNEXPECTED_EOF_WHILE_READING",
                              "unexpected eof while reading"), T, "EOF mid-stream"),
        Case("tls", ssl_error(ssl.SSLCertVerificationError, "CERTIFICATE_VERIFY_FAILED",
                              "certificate verify failed: self-signed certificate"), P,
             "certificate"),
        Case("tls", lambda: ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed"), T,
             "closed by the peer"),
        Case("http.client", lambda: http.client.RemoteDisconnected(
            "Remote end closed connection without response"), T, "RemoteDisconnected"),
        Case("http.client", lambda: http.client.IncompleteRead(b"partial", 100), T,
             "IncompleteRead"),
        Case("http.client", lambda: http.client.CannotSendRequest("Request-sent"), P,
             "connection used out of order"),
        Case("http.client", lambda: http.client.LineTooLong("header line"), P, "LineTooLong"),
        Case("urllib", lambda: urllib.error.HTTPError("https://x.test", 503, "Unavailable", {},
                                                      None), T, "HTTPError 503"),
        Case("urllib", lambda: urllib.error.HTTPError("https://x.test", 404, "Not Found", {},
                                                      None), P, "HTTPError 404"),
        Case("urllib", lambda: urllib.error.URLError(ConnectionRefusedError(111, "refused")), T,
             "URLError wrapping a refusal"),
        Case("urllib", lambda: urllib.error.URLError("unknown url type: 'htps'"), V,
             "unknown url type"),
        Case("xmlrpc", lambda: xmlrpc.client.ProtocolError("x.test/RPC2", 503, "Unavailable", {}),
             T, "errcode 503"),
        Case("xmlrpc", lambda: xmlrpc.client.ProtocolError("x.test/RPC2", 401, "Unauthorized",
                                                           {}), P, "errcode 401"),
    ]


def _ssh() -> list[Case]:
    import asyncssh
    import paramiko

    return [
        Case("ssh", lambda: paramiko.AuthenticationException("Authentication failed."), P,
             "paramiko auth"),
        Case("ssh", lambda: paramiko.BadHostKeyException(
            "host", paramiko.RSAKey.generate(1024), paramiko.RSAKey.generate(1024)), P,
             "host key changed"),
        Case("ssh", lambda: paramiko.ssh_exception.NoValidConnectionsError(
            {("10.0.0.5", 22): ConnectionRefusedError(111, "refused")}), T, "no address answered"),
        Case("ssh", lambda: paramiko.SSHException("Error reading SSH protocol banner"), T,
             "banner: the transport gave up"),
        Case("ssh", lambda: paramiko.SSHException("Server 'h' not found in known_hosts"), P,
             "unknown host key"),
        Case("ssh", lambda: paramiko.ChannelException(2, "Connect failed"), T,
             "RFC 4254 code 2"),
        Case("ssh", lambda: paramiko.ChannelException(1, "Administratively prohibited"), P,
             "RFC 4254 code 1"),
        Case("ssh", lambda: paramiko.ssh_exception.ProxyCommandFailure("ssh -W", 255), T,
             "proxy command failed"),
        Case("ssh", lambda: FileNotFoundError(2, "No such file"), P, "SFTP: ENOENT"),
        Case("ssh", lambda: asyncssh.PermissionDenied("Permission denied"), P,
             "asyncssh auth"),
        Case("ssh", lambda: asyncssh.ConnectionLost("Connection lost"), T, "asyncssh lost"),
        Case("ssh", lambda: asyncssh.HostKeyNotVerifiable("Host key is not trusted"), P,
             "asyncssh host key"),
        Case("ssh", lambda: asyncssh.SFTPNoSuchFile("No such file"), P, "asyncssh SFTP"),
        Case("ssh", lambda: asyncssh.ProcessError(None, "ls", None, 2, None, "", "err", 2), P,
             "asyncssh remote command exited non-zero"),
    ]
