"""Built-in knowledge: the generic layer's tables, for errors of any library, read by shape.

- ``GRPC_CODES``: the canonical gRPC status codes (grpc/doc/statuscodes.md and
  google.rpc.Code in googleapis ``google/rpc/code.proto``, which also gives each its
  HTTP mapping). ``UNAVAILABLE`` is the one the gRPC docs call "most likely a
  transient condition, which can be corrected by retrying with a backoff";
  ``RESOURCE_EXHAUSTED`` (429) and ``ABORTED`` (409, "retry at a higher level") are
  retried as their HTTP equivalents are; ``INTERNAL`` and ``UNKNOWN`` map to 500,
  which failtrack retries. ``CANCELLED`` is someone's decision (499), like Prefect's
  ``CancelledRun``: not retried.
- ``NAMES``: error names and reasons libraries put on their errors (``code``,
  ``error_code``, ``error_name``, ``reason``, ``errors[*].reason``), compared without
  case or punctuation: the gRPC names, their CamelCase forms (google-api-core's class
  names) and the words APIs commonly use.
- ``LABELS``: error labels a driver attaches to say an operation may be retried
  (MongoDB drivers' specification: ``RetryableWriteError``,
  ``TransientTransactionError``, ``UnknownTransactionCommitResult``,
  ``ResumableChangeStreamError``; ``SystemOverloadedError``, ``RetryableError``).
- ``TYPE_NAMES``: what a library's class names its error, for exceptions no table knows
  (``elastic_transport.ConnectionError``, openai's ``APIConnectionError``, an SDK's
  ``RateLimitError``): after the generic types, before message patterns. Searched in the
  bare class name, case-sensitively, so that ``Timeout`` is a word of the name.
- ``CONFLICT``: HTTP 409 by what it is about (RFC 9110 §15.5.10 leaves that to the
  body): something that already exists is PERMANENT (creating it again cannot
  succeed); a concurrent modification, a lease or "try again" is TRANSIENT. A 409
  that says neither stays as ``HTTP_STATUS`` has it (TRANSIENT).
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

GRPC_CODES = {
    "CANCELLED": P,
    "UNKNOWN": T,  # HTTP 500
    "INVALID_ARGUMENT": V,
    "DEADLINE_EXCEEDED": TO,
    "NOT_FOUND": P,
    "ALREADY_EXISTS": P,
    "PERMISSION_DENIED": P,
    "RESOURCE_EXHAUSTED": T,
    "FAILED_PRECONDITION": P,
    "ABORTED": T,
    "OUT_OF_RANGE": V,
    "UNIMPLEMENTED": P,
    "INTERNAL": T,
    "UNAVAILABLE": T,
    "DATA_LOSS": P,
    "UNAUTHENTICATED": P,
}

NAMES = {
    **{name: kind for name, kind in GRPC_CODES.items() if name not in ("UNKNOWN", "CANCELLED")},
    # CamelCase forms and common API words (normalised: case and punctuation ignored)
    "ServiceUnavailable": T,
    "Unavailable": T,
    "TemporarilyUnavailable": T,
    "ServerBusy": T,
    "Busy": T,
    "Overloaded": T,
    "TooManyRequests": T,
    "RateLimited": T,
    "RateLimit": T,
    "RateLimitExceeded": T,
    "Throttled": T,
    "Throttling": T,
    "ThrottlingException": T,
    "SlowDown": T,
    "QuotaExceeded": T,
    "ResourceExhausted": T,
    "BackendError": T,
    "InternalError": T,
    "InternalServerError": T,
    "BadGateway": T,
    "NetworkError": T,
    "ConnectionError": T,
    "ConnectionReset": T,
    "ConnectionRefused": T,
    "TryAgain": T,
    "TryAgainLater": T,
    "Timeout": TO,
    "TimedOut": TO,
    "RequestTimeout": TO,
    "GatewayTimeout": TO,
    "DeadlineExceeded": TO,
    "OperationTimedOut": TO,
    "Unauthorized": P,
    "Unauthenticated": P,
    "AuthenticationFailed": P,
    "AuthenticationError": P,
    "InvalidCredentials": P,
    "InvalidToken": P,
    "TokenExpired": P,
    "ExpiredToken": P,
    "Forbidden": P,
    "AccessDenied": P,
    "PermissionDenied": P,
    "InsufficientPermissions": P,
    "NotFound": P,
    "ResourceNotFound": P,
    "NoSuchKey": P,
    "NoSuchBucket": P,
    "AlreadyExists": P,
    "ResourceAlreadyExists": P,
    "ResourceExists": P,
    "Duplicate": P,
    "MethodNotAllowed": P,
    "NotImplemented": P,
    "Unimplemented": P,
    "FailedPrecondition": P,
    "PreconditionFailed": P,
    "InsufficientQuota": P,
    "BillingNotEnabled": P,
    "AccountDisabled": P,
    "BadRequest": V,
    "InvalidRequest": V,
    "InvalidArgument": V,
    "InvalidParameter": V,
    "InvalidInput": V,
    "InvalidValue": V,
    "ValidationError": V,
    "ValidationFailed": V,
    "MalformedRequest": V,
    "UnprocessableEntity": V,
    "OutOfRange": V,
    "PayloadTooLarge": V,
    "RequestEntityTooLarge": V,
}

LABELS = {
    "RetryableWriteError": T,
    "TransientTransactionError": T,
    "UnknownTransactionCommitResult": T,
    "ResumableChangeStreamError": T,
    "RetryableError": T,
    "SystemOverloadedError": T,
    "RetryableReadError": T,
}

CONFLICT = {
    "exists": P,
    "retry": T,
}

TYPE_NAMES = [
    (r"Timeout|TimedOut|Deadline", TO, "timeout"),
    (r"RateLimit|Throttl|TooManyRequests|QuotaExceeded", T, "rate limit"),
    (r"Connection(?:Error|Refused|Reset|Lost|Closed|Aborted|Failure|Failed)?$|Network"
     r"|Unavailable|Unreachable|Disconnect|Transport(?:Error)?$|ServerError$|Overload|Busy",
     T, "connection or service"),
    (r"Auth(?:entication|orization)?(?:Error|Failed|Failure|Exception)|Unauthori[sz]ed"
     r"|Forbidden|PermissionDenied|AccessDenied|Credential", P, "access"),
    (r"Broken(?:Pipe|Resource|Stream|Connection)", T, "broken connection"),
    (r"NotFound|DoesNotExist|NoSuch|AlreadyExists|Duplicate", P, "existence"),
    (r"Syntax|Undefined|Unsupported|NotSupported|NotImplemented", P, "the code or the request"),
    (r"Validation|Invalid|Malformed|Parse|Decode|Schema|BadRequest|Unprocessable", V, "input"),
]
