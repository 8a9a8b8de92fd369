"""Built-in knowledge: NATS and JetStream (nats-py).

nats-py raises one class per condition (``nats/errors.py``). Its own reconnect logic
gives up with ``NoServersError``; ``NoRespondersError`` (no subscriber answered a
request: the service is down or restarting), ``TimeoutError``, a stale or closed
connection are TRANSIENT or TIMEOUT. Authorization and bad subjects are PERMANENT.
JetStream's ``APIError`` (``nats/js/errors.py``) carries the server's HTTP-like
``code`` (404, 503...), which the generic layer reads; its leaves are listed where
their meaning is fixed.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_N, _JS = "nats.errors", "nats.js.errors"
TYPES = {
    f"{_N}.TimeoutError": TO,
    f"{_N}.FlushTimeoutError": TO,
    f"{_N}.DrainTimeoutError": TO,
    f"{_N}.NoServersError": T,
    f"{_N}.NoRespondersError": T,
    f"{_N}.ConnectionClosedError": T,
    f"{_N}.ConnectionReconnectingError": T,
    f"{_N}.ConnectionDrainingError": T,
    f"{_N}.StaleConnectionError": T,
    f"{_N}.UnexpectedEOF": T,
    f"{_N}.SlowConsumerError": T,
    f"{_N}.OutboundBufferLimitError": T,
    f"{_N}.ServerNotInPoolError": T,
    f"{_N}.AuthorizationError": P,
    f"{_N}.InvalidUserCredentialsError": P,
    f"{_N}.SecureConnRequiredError": P,
    f"{_N}.SecureConnWantedError": P,
    f"{_N}.SecureConnFailedError": P,
    f"{_N}.BadSubjectError": V,
    f"{_N}.BadHeaderError": V,
    f"{_N}.MaxPayloadError": V,
    f"{_N}.JsonParseError": V,
    f"{_N}.BadTimeoutError": P,
    f"{_N}.BadSubscriptionError": P,
    f"{_N}.InvalidCallbackTypeError": P,
    f"{_N}.MsgAlreadyAckdError": P,
    f"{_N}.NotJSMessageError": P,
    f"{_N}.ProtocolError": T,
    f"{_JS}.NoStreamResponseError": T,  # JetStream not (yet) answering
    f"{_JS}.FetchTimeoutError": TO,
    f"{_JS}.ServiceUnavailableError": T,
    f"{_JS}.ServerError": T,
    f"{_JS}.NotFoundError": P,
    f"{_JS}.BadRequestError": V,
    f"{_JS}.KeyNotFoundError": P,
    f"{_JS}.KeyDeletedError": P,
    f"{_JS}.BucketNotFoundError": P,
    f"{_JS}.ObjectNotFoundError": P,
    f"{_JS}.ObjectDeletedError": P,
    f"{_JS}.ObjectAlreadyExists": P,
    f"{_JS}.KeyWrongLastSequenceError": T,  # optimistic concurrency: someone wrote first
    f"{_JS}.InvalidBucketNameError": V,
    f"{_JS}.InvalidKeyError": V,
    f"{_JS}.InvalidObjectNameError": V,
    f"{_JS}.BadBucketError": P,
    f"{_JS}.DigestMismatchError": T,
    f"{_JS}.ConsumerSequenceMismatchError": T,
    f"{_JS}.TooManyStalledMsgsError": T,
}

GENERIC_TYPES = {
    f"{_JS}.APIError": P,  # its code decides first
    f"{_N}.Error": P,
}
