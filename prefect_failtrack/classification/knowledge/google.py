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
    f"{_AUTH}.TimeoutError": TO,
    f"{_AUTH}.DefaultCredentialsError": P,  # no credentials configured
    f"{_AUTH}.ReauthFailError": P,
    f"{_AUTH}.MalformedError": P,
    f"{_AUTH}.InvalidValue": V,
}

# google-auth's errors state ``retryable`` (``google/auth/exceptions.py``): a token
# endpoint that answered 5xx or 429 makes a retryable ``RefreshError``
# (``google/oauth2/_client.py`` ``_can_retry``); revoked or invalid credentials
# (invalid_grant) do not. The flag decides (generic layer); the class when it is absent.
GENERIC_TYPES = {
    f"{_API}.ServerError": T,
    f"{_API}.ClientError": P,
    f"{_AUTH}.RefreshError": P,
    f"{_AUTH}.GoogleAuthError": P,
}

# google.rpc.ErrorInfo reasons (``exc.reason``) and the reasons of the JSON errors of
# the REST APIs (``exc.errors[*]['reason']``: BigQuery's "Troubleshoot errors" page):
# they refine the status (BigQuery says 403 for rateLimitExceeded and quotaExceeded).
CLOUD_CODES = {
    "rateLimitExceeded": T,
    "userRateLimitExceeded": T,
    "jobRateLimitExceeded": T,
    "quotaExceeded": T,
    "backendError": T,
    "jobBackendError": T,
    "internalError": T,
    "jobInternalError": T,
    "tableUnavailable": T,
    "resourceInUse": T,
    "timeout": TO,
    "accessDenied": P,
    "billingNotEnabled": P,
    "billingTierLimitExceeded": P,
    "blocked": P,
    "duplicate": P,
    "invalidQuery": P,
    "invalidUser": P,
    "notFound": P,
    "notImplemented": P,
    "resourcesExceeded": P,  # the query is too large for its slots: rewrite it
    "responseTooLarge": P,
    "stopped": P,  # the job was cancelled
    "keyInvalid": P,
    "invalid": V,
    "required": V,
    "badRequest": V,
    "RATE_LIMIT_EXCEEDED": T,
    "SERVICE_DISABLED": P,
    "BILLING_DISABLED": P,
    "API_KEY_INVALID": P,
    "ACCESS_TOKEN_SCOPE_INSUFFICIENT": P,
    "IAM_PERMISSION_DENIED": P,
}
