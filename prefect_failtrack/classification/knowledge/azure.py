"""Built-in knowledge: Azure SDKs (azure-core and the service clients built on it).

``HttpResponseError`` carries ``status_code`` and the service's ``error_code``
(Storage's ``x-ms-error-code``: ``ContainerAlreadyExists``, ``ServerBusy``...): the
code decides (``CLOUD_CODES``), then the status (generic layer, 409 split by what it is
about). azure-core's own retry policy (``azure/core/pipeline/policies/_retry.py``)
retries 408, 429, 500, 502, 503, 504 and connection errors; what reaches a task has run
out of those. ``ResourceExistsError`` is a 409 about something that exists: PERMANENT;
``ResourceModifiedError`` (412, an ETag that no longer matches) means someone else wrote
first: TRANSIENT, the next attempt reads the new version.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_X = "azure.core.exceptions"
TYPES = {
    f"{_X}.ServiceRequestTimeoutError": TO,
    f"{_X}.ServiceResponseTimeoutError": TO,
    f"{_X}.ServiceRequestError": T,  # the request never reached the service
    f"{_X}.ServiceResponseError": T,  # the connection broke before the response
    f"{_X}.IncompleteReadError": T,
    f"{_X}.ClientAuthenticationError": P,
    f"{_X}.ResourceExistsError": P,
    f"{_X}.ResourceNotFoundError": P,
    f"{_X}.ResourceModifiedError": T,
    f"{_X}.ResourceNotModifiedError": P,
    f"{_X}.TooManyRedirectsError": P,
    f"{_X}.DecodeError": P,
    f"{_X}.SerializationError": V,
    f"{_X}.DeserializationError": P,
    f"{_X}.StreamConsumedError": P,
    f"{_X}.StreamClosedError": P,
    f"{_X}.ResponseNotReadError": P,
}

GENERIC_TYPES = {
    f"{_X}.HttpResponseError": P,  # its error code and status decide first
    f"{_X}.ODataV4Error": P,
    f"{_X}.AzureError": P,
}

# Storage error codes (azure.storage.*._shared.models.StorageErrorCode) and common
# Azure Resource Manager codes.
CLOUD_CODES = {
    "ServerBusy": T,
    "OperationTimedOut": TO,
    "InternalError": T,
    "ContainerBeingDeleted": T,
    "ContainerBeingDisabled": T,
    "BlobBeingRehydrated": T,
    "LeaseAlreadyPresent": T,
    "LeaseIdMismatchWithContainerOperation": P,
    "LeaseIdMissing": P,
    "ConditionNotMet": T,
    "AccountAlreadyExists": P,
    "ContainerAlreadyExists": P,
    "BlobAlreadyExists": P,
    "QueueAlreadyExists": P,
    "ShareAlreadyExists": P,
    "ContainerNotFound": P,
    "BlobNotFound": P,
    "QueueNotFound": P,
    "ShareNotFound": P,
    "ResourceNotFound": P,
    "ResourceGroupNotFound": P,
    "AuthenticationFailed": P,
    "AuthorizationFailure": P,
    "AuthorizationPermissionMismatch": P,
    "InsufficientAccountPermissions": P,
    "AccountIsDisabled": P,
    "InvalidAuthenticationInfo": P,
    "InvalidQueryParameterValue": V,
    "InvalidHeaderValue": V,
    "InvalidInput": V,
    "InvalidBlobOrBlock": V,
    "RequestBodyTooLarge": V,
    "OutOfRangeInput": V,
    "Md5Mismatch": T,  # corrupted in transit
    "SubscriptionRequestsThrottled": T,
    "TooManyRequests": T,
}
