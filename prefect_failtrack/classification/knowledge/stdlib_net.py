"""Built-in knowledge: the standard library's network protocols: smtplib, ftplib, imaplib,
poplib, ssl, http.client, urllib.error, xmlrpc.client.

Most of these errors are ``OSError`` subclasses, which alone would say TRANSIENT; the
reply code each protocol carries says better, and decides first:

- SMTP (RFC 5321 §4.2.1): ``smtp_code`` of ``SMTPResponseException`` and its leaves;
  4yz is a "transient negative completion", 5yz "permanent" (535 bad credentials,
  550 mailbox unavailable). ``SMTPRecipientsRefused`` keeps the codes per recipient
  in its message.
- FTP (RFC 959 §4.2): the reply starts the message of ``ftplib``'s errors; 4yz
  transient, 5yz permanent (``ftplib`` itself raises ``error_temp`` / ``error_perm``).
- IMAP (RFC 5530 response codes in brackets: ``[UNAVAILABLE]``,
  ``[AUTHENTICATIONFAILED]``...) and POP3 (RFC 2449/3206: ``[IN-USE]``,
  ``[SYS/TEMP]``, ``[AUTH]``).
- TLS: OpenSSL's reason (``SSLError.reason``): ``WRONG_VERSION_NUMBER`` (TLS spoken to a
  port that does not speak it), an unknown CA or a protocol version the peer refuses
  are configuration, PERMANENT; an EOF or a bad record mid-stream is the network.
- xmlrpc's ``ProtocolError`` keeps the HTTP status in ``errcode``.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "smtplib.SMTPResponseException": [CodeSource("smtp", code="smtp_code")],
    "smtplib.SMTPRecipientsRefused": [CodeSource("smtp", message=r"\((\d{3}), b?['\"]")],
    "ftplib.Error": [CodeSource("ftp", message=r"^\s*(\d{3})\b")],
    "imaplib.IMAP4.error": [CodeSource("imap", message=r"\[([A-Z][A-Z-]+)\]")],
    "poplib.error_proto": [CodeSource("pop3", message=r"\[([A-Z][A-Z/-]+)\]")],
    "ssl.SSLError": [CodeSource("openssl", code="reason")],
    "xmlrpc.client.ProtocolError": [CodeSource("http", code="errcode")],
}

CODES = {
    "smtp": {
        range(400, 500): T,
        range(500, 600): P,
        501: V,  # syntax error in parameters or arguments (an address)
        553: V,  # mailbox name not allowed
        555: V,  # MAIL FROM/RCPT TO parameters not recognized
    },
    "ftp": {
        range(400, 500): T,  # 421, 425, 426, 450, 451, 452
        range(500, 600): P,  # 530 not logged in, 550 file unavailable
        553: V,  # file name not allowed
    },
    "imap": {
        "UNAVAILABLE": T, "INUSE": T, "LIMIT": T, "SERVERBUG": T, "EXPUNGEISSUED": T,
        "CORRUPTION": T,
        "AUTHENTICATIONFAILED": P, "AUTHORIZATIONFAILED": P, "EXPIRED": P,
        "PRIVACYREQUIRED": P, "CONTACTADMIN": P, "NOPERM": P, "CLIENTBUG": P, "CANNOT": P,
        "OVERQUOTA": P, "ALREADYEXISTS": P, "NONEXISTENT": P, "TRYCREATE": P,
    },
    "pop3": {
        "IN-USE": T, "LOGIN-DELAY": T, "SYS/TEMP": T,
        "SYS/PERM": P, "AUTH": P,
    },
    "openssl": {
        "WRONG_VERSION_NUMBER": P,
        "CERTIFICATE_VERIFY_FAILED": P,
        "HTTP_REQUEST": P,  # plain HTTP sent to a TLS port
        "UNSUPPORTED_PROTOCOL": P,
        "NO_PROTOCOLS_AVAILABLE": P,
        "TLSV1_ALERT_PROTOCOL_VERSION": P,
        "SSLV3_ALERT_HANDSHAKE_FAILURE": P,
        "TLSV1_ALERT_UNKNOWN_CA": P,
        "SSLV3_ALERT_BAD_CERTIFICATE": P,
        "SSLV3_ALERT_CERTIFICATE_EXPIRED": P,
        "TLSV1_ALERT_ACCESS_DENIED": P,
        "TLSV13_ALERT_CERTIFICATE_REQUIRED": P,
        "DH_KEY_TOO_SMALL": P,
        "UNSAFE_LEGACY_RENEGOTIATION_DISABLED": P,
        "UNEXPECTED_EOF_WHILE_READING": T,
        "DECRYPTION_FAILED_OR_BAD_RECORD_MAC": T,
        "SSLV3_ALERT_BAD_RECORD_MAC": T,
        "TLSV1_ALERT_INTERNAL_ERROR": T,
        "APPLICATION_DATA_AFTER_CLOSE_NOTIFY": T,
    },
}

TYPES = {
    "smtplib.SMTPServerDisconnected": T,
    "smtplib.SMTPNotSupportedError": P,
    "ftplib.error_temp": T,
    "ftplib.error_perm": P,
    "ftplib.error_reply": P,
    "ftplib.error_proto": P,
    "imaplib.IMAP4.abort": T,  # the connection broke: "reconnect and retry"
    "imaplib.IMAP4.readonly": T,
    "ssl.SSLZeroReturnError": T,
    "ssl.SSLEOFError": T,
    "ssl.SSLSyscallError": T,
    "ssl.SSLWantReadError": T,
    "ssl.SSLWantWriteError": T,
    "http.client.RemoteDisconnected": T,
    "http.client.ResponseNotReady": P,  # the client used the connection out of order
    "http.client.CannotSendRequest": P,
    "http.client.CannotSendHeader": P,
    "http.client.NotConnected": P,
    "http.client.UnknownProtocol": P,
    "http.client.UnknownTransferEncoding": P,
    "http.client.LineTooLong": P,
    "xmlrpc.client.Fault": P,  # the remote procedure raised: its code is the server's own
}

GENERIC_TYPES = {
    "smtplib.SMTPException": P,  # its reply code decides first
    "imaplib.IMAP4.error": P,
    "poplib.error_proto": P,
    "http.client.HTTPException": T,
    "xmlrpc.client.ProtocolError": T,
}

TYPE_MESSAGES = {
    # urllib's URLError for a URL whose scheme no handler takes
    "urllib.error.URLError": [(r"unknown url type", V, "unknown url type")],
}
