"""Built-in knowledge: AWS through botocore (boto3, s3fs, awswrangler...).

A ``ClientError`` carries the service's error code and the HTTP status; the
code decides first, since throttling often comes back as HTTP 400. The
transient codes follow botocore's own standard retry mode
(``botocore.retries.standard``), plus the 5xx-style service codes.

``ExpiredToken``: botocore refreshes refreshable credentials (roles, SSO)
by itself, so an expired token that reaches a task means static credentials
that only a person can renew: PERMANENT.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CLOUD_CODES = {
    # throttling (botocore's _THROTTLED_ERROR_CODES)
    "Throttling": T,
    "ThrottlingException": T,
    "ThrottledException": T,
    "RequestThrottled": T,
    "RequestThrottledException": T,
    "TooManyRequestsException": T,
    "ProvisionedThroughputExceededException": T,
    "TransactionInProgressException": T,
    "RequestLimitExceeded": T,
    "BandwidthLimitExceeded": T,
    "LimitExceededException": T,
    "SlowDown": T,
    "PriorRequestNotComplete": T,
    "EC2ThrottledException": T,
    # timeouts (botocore's _TRANSIENT_ERROR_CODES)
    "RequestTimeout": TO,
    "RequestTimeoutException": TO,
    # the service itself is unwell
    "InternalError": T,
    "InternalFailure": T,
    "InternalServerError": T,
    "InternalServerException": T,
    "ServiceUnavailable": T,
    "ServiceUnavailableException": T,
    "ServiceException": T,
    "IDPCommunicationError": T,
    # credentials and permissions
    "AccessDenied": P,
    "AccessDeniedException": P,
    "UnauthorizedOperation": P,
    "UnrecognizedClientException": P,
    "InvalidClientTokenId": P,
    "InvalidAccessKeyId": P,
    "SignatureDoesNotMatch": P,
    "ExpiredToken": P,
    "ExpiredTokenException": P,
    "AuthFailure": P,
    # missing things
    "NoSuchBucket": P,
    "NoSuchKey": P,
    "NoSuchUpload": P,
    "ResourceNotFoundException": P,
    "NotFound": P,
    # bad requests
    "ValidationException": V,
    "ValidationError": V,
    "InvalidParameterValue": V,
    "InvalidParameterValueException": V,
    "InvalidParameterException": V,
    "InvalidParameterCombination": V,
    "MissingParameter": V,
    "MalformedPolicyDocument": V,
    "MalformedPolicyDocumentException": V,
    "SerializationException": V,
}

_BOTO = "botocore.exceptions"

TYPES = {
    f"{_BOTO}.ConnectTimeoutError": TO,
    f"{_BOTO}.ReadTimeoutError": TO,
    f"{_BOTO}.ConnectionError": T,  # EndpointConnectionError, ProxyConnectionError, SSLError
    f"{_BOTO}.HTTPClientError": T,  # ConnectionClosedError, ResponseStreamingError
    f"{_BOTO}.IncompleteReadError": T,
    f"{_BOTO}.CredentialRetrievalError": T,  # the credential provider (IMDS, SSO) did not answer
    f"{_BOTO}.MetadataRetrievalError": T,
    f"{_BOTO}.NoCredentialsError": P,
    f"{_BOTO}.PartialCredentialsError": P,
    f"{_BOTO}.NoRegionError": P,
    f"{_BOTO}.ProfileNotFound": P,
    f"{_BOTO}.UnknownServiceError": P,
    f"{_BOTO}.TokenRetrievalError": P,  # SSO token expired: "aws sso login" again
    f"{_BOTO}.UnauthorizedSSOTokenError": P,
    f"{_BOTO}.ParamValidationError": V,
    f"{_BOTO}.ValidationError": V,
    f"{_BOTO}.WaiterError": TO,  # a waiter gave up waiting
}

TYPE_MESSAGES = {
    f"{_BOTO}.WaiterError": [(r"terminal failure state", P, "waiter reached a failure state")],
    f"{_BOTO}.SSLError": [
        (r"certificate verify failed|CERTIFICATE_VERIFY_FAILED", P, "certificate verify failed"),
    ],
}
