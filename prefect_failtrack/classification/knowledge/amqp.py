"""Built-in knowledge: AMQP 0-9-1 brokers such as RabbitMQ (pika, aio-pika and aiormq).

A broker that closes a channel or a connection says why with a reply code (AMQP
0-9-1 specification, "Constants"; RabbitMQ's "Channels" and "Connections" guides):
pika keeps it in ``reply_code`` (``pika/exceptions.py``), aiormq in ``args[0]`` for the
codes it has no class for (``aiormq/channel.py`` and ``connection.py``
``exception_by_code``) and a class per code for the others. The spec marks each code a
"soft" or "hard" error; what matters here is whether the same call can succeed later:

- 320 connection-forced (an operator or a node restart closed it), 405
  resource-locked (an exclusive queue of another connection), 506 resource-error and
  541 internal-error: TRANSIENT;
- 403 access-refused, 404 not-found, 406 precondition-failed (a queue redeclared with
  other arguments), 530 not-allowed, and the protocol's framing and syntax errors
  (501-505, 540): PERMANENT; 311 content-too-large: VALIDATION.

The codes are claimed, so 404 or 503 (command-invalid) are never read as HTTP statuses.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "pika.exceptions.ChannelClosed": [CodeSource("amqp", code="reply_code")],
    "pika.exceptions.ConnectionClosed": [CodeSource("amqp", code="reply_code")],
    "aiormq.exceptions.ChannelClosed": [CodeSource("amqp", code="args[0]")],
    "aiormq.exceptions.ConnectionClosed": [CodeSource("amqp", code="args[0]")],
}

CODES = {
    "amqp": {
        200: T,  # reply-success: closed normally, by the other side (pika's "(200) 'Normal
        #          shutdown'" when the broker or a client closed it)
        311: V,  # content-too-large
        312: P,  # no-route (mandatory publish)
        313: T,  # no-consumers (immediate publish)
        320: T,  # connection-forced
        402: P,  # invalid-path (virtual host)
        403: P,  # access-refused
        404: P,  # not-found
        405: T,  # resource-locked
        406: P,  # precondition-failed
        501: P, 502: P, 503: P, 504: P, 505: P,  # frame, syntax, command, channel, unexpected
        506: T,  # resource-error
        530: P,  # not-allowed
        540: P,  # not-implemented
        541: T,  # internal-error
    },
}

_PIKA, _AIORMQ = "pika.exceptions", "aiormq.exceptions"
TYPES = {
    f"{_PIKA}.AMQPConnectionError": T,  # could not connect: refused, reset, DNS
    f"{_PIKA}.StreamLostError": T,
    f"{_PIKA}.AMQPHeartbeatTimeout": T,
    f"{_PIKA}.ConnectionBlockedTimeout": TO,  # the broker blocked publishers (alarms)
    f"{_PIKA}.ConnectionOpenAborted": T,
    f"{_PIKA}.NackError": T,  # the broker refused messages it could not take now
    f"{_PIKA}.UnroutableError": P,
    f"{_PIKA}.ProbableAuthenticationError": P,
    f"{_PIKA}.ProbableAccessDeniedError": P,
    f"{_PIKA}.AuthenticationError": P,
    f"{_PIKA}.IncompatibleProtocolError": P,
    f"{_PIKA}.ChannelWrongStateError": P,  # a closed channel used again: a bug
    f"{_PIKA}.ConnectionWrongStateError": P,
    f"{_PIKA}.ChannelClosedByClient": P,
    f"{_PIKA}.ConnectionClosedByClient": P,
    f"{_PIKA}.DuplicateConsumerTag": P,
    f"{_PIKA}.ReentrancyError": P,
    f"{_PIKA}.NoFreeChannels": T,
    f"{_PIKA}.BodyTooLongError": V,
    f"{_PIKA}.ShortStringTooLong": V,
    f"{_PIKA}.UnsupportedAMQPFieldException": V,
    f"{_AIORMQ}.ChannelAccessRefused": P,  # 403
    f"{_AIORMQ}.ChannelNotFoundEntity": P,  # 404
    f"{_AIORMQ}.ChannelLockedResource": T,  # 405
    f"{_AIORMQ}.ChannelPreconditionFailed": P,  # 406
    f"{_AIORMQ}.ConnectionFrameError": P,
    f"{_AIORMQ}.ConnectionSyntaxError": P,
    f"{_AIORMQ}.ConnectionCommandInvalid": P,
    f"{_AIORMQ}.ConnectionChannelError": P,
    f"{_AIORMQ}.ConnectionUnexpectedFrame": P,
    f"{_AIORMQ}.ConnectionResourceError": T,  # 506
    f"{_AIORMQ}.ConnectionNotAllowed": P,  # 530
    f"{_AIORMQ}.ConnectionNotImplemented": P,
    f"{_AIORMQ}.ConnectionInternalError": T,  # 541
    f"{_AIORMQ}.AuthenticationError": P,
    f"{_AIORMQ}.ProbableAuthenticationError": P,
    f"{_AIORMQ}.IncompatibleProtocolError": P,
    f"{_AIORMQ}.ChannelInvalidStateError": P,
    f"{_AIORMQ}.DuplicateConsumerTag": P,
    f"{_AIORMQ}.PublishError": T,  # the broker returned or nacked a message
    f"{_AIORMQ}.DeliveryError": T,
    "aio_pika.exceptions.QueueEmpty": T,  # nothing to get yet
}

GENERIC_TYPES = {
    f"{_PIKA}.ChannelClosed": P,  # its reply code decides first
    f"{_PIKA}.ConnectionClosed": T,
    f"{_PIKA}.AMQPError": P,
    f"{_AIORMQ}.ChannelClosed": P,
    f"{_AIORMQ}.ConnectionClosed": T,
    f"{_AIORMQ}.AMQPConnectionError": T,
    f"{_AIORMQ}.AMQPError": P,
}
