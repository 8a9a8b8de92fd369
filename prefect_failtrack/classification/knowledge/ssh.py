"""Built-in knowledge: SSH and SFTP (paramiko, asyncssh).

paramiko (``paramiko/ssh_exception.py``): authentication failures and a host key that
does not match are PERMANENT (a person must fix the key or the credentials);
``NoValidConnectionsError`` (every address refused or unreachable), a dropped
session and a proxy command that failed are TRANSIENT. ``ChannelException`` carries
the SSH channel-open failure code (RFC 4254 §5.1): 1 administratively prohibited and
3 unknown channel type are PERMANENT, 2 connect failed and 4 resource shortage
TRANSIENT. A bare ``SSHException`` is mostly the transport giving up mid-handshake
("Error reading SSH protocol banner", "No existing session"): TRANSIENT, with the
messages that say otherwise. SFTP failures are ``IOError``s with an errno
(``paramiko/sftp_client.py`` ``_convert_status``), judged as such.

asyncssh (``asyncssh/misc.py``): one class per disconnect reason (RFC 4253 §11.1).
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_X = "paramiko.ssh_exception"
CODE_SOURCES = {
    f"{_X}.ChannelException": [CodeSource("ssh-channel", code="code")],
}

CODES = {
    "ssh-channel": {1: P, 2: T, 3: P, 4: T},
}

TYPES = {
    f"{_X}.AuthenticationException": P,
    f"{_X}.BadAuthenticationType": P,
    f"{_X}.PartialAuthentication": P,
    f"{_X}.PasswordRequiredException": P,
    f"{_X}.UnableToAuthenticate": P,
    f"{_X}.BadHostKeyException": P,
    f"{_X}.IncompatiblePeer": P,
    f"{_X}.ConfigParseError": P,
    f"{_X}.CouldNotCanonicalize": P,
    f"{_X}.MessageOrderError": T,
    f"{_X}.NoValidConnectionsError": T,
    f"{_X}.ProxyCommandFailure": T,
    "asyncssh.misc.PermissionDenied": P,
    "asyncssh.misc.HostKeyNotVerifiable": P,
    "asyncssh.misc.KeyExchangeFailed": P,
    "asyncssh.misc.ProtocolNotSupported": P,
    "asyncssh.misc.IllegalUserName": V,
    "asyncssh.misc.ConnectionLost": T,
    "asyncssh.misc.ServiceNotAvailable": T,
    "asyncssh.misc.ChannelOpenError": T,
    "asyncssh.misc.ProtocolError": P,
    "asyncssh.process.ProcessError": P,  # the remote command exited non-zero
    "asyncssh.sftp.SFTPNoSuchFile": P,
    "asyncssh.sftp.SFTPPermissionDenied": P,
    "asyncssh.sftp.SFTPFileAlreadyExists": P,
    "asyncssh.sftp.SFTPConnectionLost": T,
    "asyncssh.sftp.SFTPNoConnection": T,
}

GENERIC_TYPES = {
    f"{_X}.SSHException": T,
    "asyncssh.misc.DisconnectError": T,
    "asyncssh.sftp.SFTPError": P,
}

TYPE_MESSAGES = {
    f"{_X}.SSHException": [
        (r"not found in known_hosts|host key", P, "unknown host key"),
        (r"private key file is encrypted|not a valid \w+ private key|invalid key",
         P, "bad private key"),
    ],
}
