"""Azure, Kubernetes, Docker, Google (auth, BigQuery, API core), tenacity."""

from __future__ import annotations

import json

from . import P, T, TO, V, Case, raised


def cases() -> list[Case]:
    return [*_azure(), *_kubernetes(), *_docker(), *_google(), *_tenacity()]


class _AzureResponse:
    def __init__(self, status: int, headers: dict | None = None) -> None:
        self.status_code, self.reason, self.headers = status, "reason", headers or {}
        self.request = None

    def text(self, encoding=None):
        return ""


def _azure() -> list[Case]:
    import azure.core.exceptions as az

    def http(status: int, code: str | None = None, cls=az.HttpResponseError, message="failed"):
        def make():
            exc = cls(message=message, response=_AzureResponse(status))
            exc.error_code = code
            return exc

        return make

    return [
        Case("azure", http(409, "ContainerAlreadyExists", az.ResourceExistsError), P,
             "ResourceExistsError (409 exists)"),
        Case("azure", http(409, "BlobAlreadyExists"), P, "BlobAlreadyExists"),
        Case("azure", http(409, "LeaseAlreadyPresent"), T, "a lease someone holds"),
        Case("azure", http(404, "BlobNotFound", az.ResourceNotFoundError), P, "not found"),
        Case("azure", http(503, "ServerBusy"), T, "ServerBusy"),
        Case("azure", http(500, "OperationTimedOut"), TO, "OperationTimedOut"),
        Case("azure", http(403, "AuthorizationPermissionMismatch"), P, "RBAC"),
        Case("azure", http(429), T, "429"),
        Case("azure", http(412, "ConditionNotMet", az.ResourceModifiedError), T,
             "ETag changed: someone wrote first"),
        Case("azure", http(400, "InvalidQueryParameterValue"), V, "bad parameter"),
        Case("azure", lambda: az.ServiceRequestError("Failed to establish a new connection"), T,
             "ServiceRequestError"),
        Case("azure", lambda: az.ServiceResponseTimeoutError("read timeout"), TO,
             "ServiceResponseTimeoutError"),
        Case("azure", lambda: az.ClientAuthenticationError("AADSTS7000215: Invalid client secret"),
             P, "credentials"),
    ]


def _kubernetes() -> list[Case]:
    from kubernetes.client.exceptions import ApiException

    def api(status: int, reason: str, phrase: str, message: str = ""):
        def make():
            exc = ApiException(status=status, reason=phrase)
            exc.body = json.dumps({"kind": "Status", "status": "Failure", "reason": reason,
                                   "message": message, "code": status})
            return exc

        return make

    return [
        Case("kubernetes", api(409, "AlreadyExists", "Conflict",
                               'jobs.batch "etl" already exists'), P, "AlreadyExists"),
        Case("kubernetes", api(409, "Conflict", "Conflict",
                               "the object has been modified; please apply your changes to the "
                               "latest version and try again"), T, "optimistic concurrency"),
        Case("kubernetes", api(404, "NotFound", "Not Found"), P, "NotFound"),
        Case("kubernetes", api(403, "Forbidden", "Forbidden"), P, "RBAC"),
        Case("kubernetes", api(422, "Invalid", "Unprocessable Entity"), V, "Invalid"),
        Case("kubernetes", api(410, "Expired", "Gone", "too old resource version"), T,
             "watch expired: relist"),
        Case("kubernetes", api(429, "TooManyRequests", "Too Many Requests"), T, "APF"),
        Case("kubernetes", api(500, "InternalError", "Internal Server Error"), T, "500"),
        Case("kubernetes", api(504, "Timeout", "Gateway Timeout"), TO, "Timeout"),
        Case("kubernetes", lambda: ApiException(status=503, reason="Service Unavailable"), T,
             "503 without a body"),
    ]


def _docker() -> list[Case]:
    import docker.errors as d
    import requests

    def api(status: int, explanation: str, cls=d.APIError):
        def make():
            response = requests.Response()
            response.status_code = status
            return cls(f"{status} Server Error", response=response, explanation=explanation)

        return make

    return [
        Case("docker", api(409, 'Conflict. The container name "/etl" is already in use by '
                                'container "4f2"'), P, "409 name in use"),
        Case("docker", api(409, "removal of container 4f2 is already in progress"), T,
             "409 in progress"),
        Case("docker", api(404, "No such container: etl", d.NotFound), P, "NotFound"),
        Case("docker", api(404, "pull access denied for x, repository does not exist",
                           d.ImageNotFound), P, "ImageNotFound"),
        Case("docker", api(500, "driver failed programming external connectivity"), T, "500"),
        Case("docker", api(400, "invalid reference format"), V, "400"),
        Case("docker", lambda: d.ContainerError("etl", 1, "python run.py", "img", b"Traceback"),
             P, "the container exited non-zero"),
        Case("docker", lambda: d.DockerException(
            "Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))"), T, "daemon not reachable"),
        Case("docker", lambda: d.InvalidArgument("bad volume spec"), V, "InvalidArgument"),
    ]


def _google() -> list[Case]:
    import google.api_core.exceptions as api
    import google.auth.exceptions as auth

    return [
        Case("google-auth", lambda: auth.RefreshError(
            "('Unable to acquire token', {'error': 'internal_failure'})", retryable=True), T,
             "RefreshError(retryable=True)"),
        Case("google-auth", lambda: auth.RefreshError(
            "('invalid_grant: Token has been expired or revoked.')"), P,
             "RefreshError: invalid_grant"),
        Case("google-auth", lambda: auth.TransportError("Failed to retrieve token"), T,
             "TransportError"),
        Case("google-auth", lambda: auth.DefaultCredentialsError(
            "Your default credentials were not found"), P, "no credentials"),
        Case("bigquery", lambda: api.Forbidden(
            "Exceeded rate limits: too many table update operations",
            errors=[{"reason": "rateLimitExceeded", "message": "Exceeded rate limits"}]), T,
             "403 rateLimitExceeded"),
        Case("bigquery", lambda: api.Forbidden("Quota exceeded",
                                               errors=[{"reason": "quotaExceeded"}]), T,
             "403 quotaExceeded"),
        Case("bigquery", lambda: api.Forbidden("Access Denied: Table x",
                                               errors=[{"reason": "accessDenied"}]), P,
             "403 accessDenied"),
        Case("bigquery", lambda: api.BadRequest("Syntax error: Unexpected keyword",
                                                errors=[{"reason": "invalidQuery"}]), P,
             "invalidQuery"),
        Case("bigquery", lambda: api.BadRequest("Bad int64 value: abc",
                                                errors=[{"reason": "invalid"}]), V,
             "invalid value"),
        Case("bigquery", lambda: api.InternalServerError(
            "Error encountered during execution. Retrying may solve the problem.",
            errors=[{"reason": "backendError"}]), T, "backendError"),
        Case("bigquery", lambda: api.NotFound("Not found: Table p:d.t",
                                              errors=[{"reason": "notFound"}]), P, "notFound"),
        Case("bigquery", lambda: api.BadRequest("Resources exceeded during query execution",
                                                errors=[{"reason": "resourcesExceeded"}]), P,
             "resourcesExceeded: rewrite the query"),
    ]


def _tenacity() -> list[Case]:
    import tenacity

    def giving_up(inner: BaseException):
        @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none())
        def call():
            raise inner

        return lambda: raised(call)

    @tenacity.retry(stop=tenacity.stop_after_attempt(2), wait=tenacity.wait_none(),
                    retry=tenacity.retry_if_result(lambda value: value != "done"))
    def poll():
        return "running"

    return [
        Case("tenacity", giving_up(ConnectionResetError(104, "reset")), T,
             "last attempt: a connection reset"),
        Case("tenacity", giving_up(KeyError("customer")), P, "last attempt: a KeyError"),
        Case("tenacity", giving_up(TimeoutError("read timed out")), TO, "last attempt: timeout"),
        Case("tenacity", lambda: raised(poll), TO,
             "ended on a result: the wait for a condition ran out"),
        Case("tenacity", lambda: tenacity.TryAgain(), T, "TryAgain"),
    ]
