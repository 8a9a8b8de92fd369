"""Built-in knowledge: Google Cloud client libraries (google-api-core, google-auth).

google-api-core errors carry an HTTP status (``.code``), but one status covers
several meanings: ``AlreadyExists`` and ``Aborted`` are both 409, and
``FailedPrecondition`` is a 400 that is not about the request's values. Listed
types beat the status (see the knowledge package), so the leaves are listed;
the bases stay generic and let the status decide.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_API = "google.api_core.exceptions"
_AUTH = "google.auth.exceptions"

TYPES = {
    f"{_API}.TooManyRequests": T,
    f"{_API}.ResourceExhausted": T,  # quota or rate: "quota exceeded" in messages says why T
    f"{_API}.ServiceUnavailable": T,
    f"{_API}.InternalServerError": T,
    f"{_API}.BadGateway": T,
    f"{_API}.Aborted": T,  # concurrency conflict: "retry at a higher level"
    f"{_API}.GatewayTimeout": TO,
    f"{_API}.DeadlineExceeded": TO,
    f"{_API}.RetryError": TO,  # the retry deadline ran out
    f"{_API}.NotFound": P,
    f"{_API}.Forbidden": P,
    f"{_API}.PermissionDenied": P,
    f"{_API}.Unauthorized": P,
    f"{_API}.Unauthenticated": P,
    f"{_API}.AlreadyExists": P,
    f"{_API}.FailedPrecondition": P,  # the system is not in the state the call needs
    f"{_API}.DataLoss": P,
    f"{_API}.MethodNotImplemented": P,
    f"{_API}.BadRequest": V,
    f"{_API}.InvalidArgument": V,
    f"{_API}.OutOfRange": V,
    f"{_AUTH}.TransportError": T,  # could not reach the token endpoint
    f"{_AUTH}.RefreshError": P,  # the credentials were refused (revoked, invalid_grant)
    f"{_AUTH}.DefaultCredentialsError": P,  # no credentials configured
}

GENERIC_TYPES = {
    f"{_API}.ServerError": T,
    f"{_API}.ClientError": P,
}

# google.rpc.ErrorInfo reasons (``exc.reason``): they refine the status.
CLOUD_CODES = {
    "RATE_LIMIT_EXCEEDED": T,
    "SERVICE_DISABLED": P,
    "BILLING_DISABLED": P,
    "API_KEY_INVALID": P,
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT": P,
    "IAM_PERMISSION_DENIED": P,
}
