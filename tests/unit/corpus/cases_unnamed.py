"""Libraries issue 14 does not name: Elasticsearch, OpenAI, aiokafka, asyncssh, Azure Storage,
botocore codes not listed, httpx2, SQLite through SQLAlchemy, and made-up SDKs whose errors
carry only generic metadata (what an unknown library would look like)."""

from __future__ import annotations

import enum

from . import P, T, TO, U, V, Case


def cases() -> list[Case]:
    return [*_elasticsearch(), *_openai(), *_aiokafka(), *_generic_sdks()]


def _elasticsearch() -> list[Case]:
    import elastic_transport as et
    import elasticsearch as es

    def api(cls, status: int, kind: str):
        def make():
            meta = et.ApiResponseMeta(status=status, http_version="1.1",
                                      headers=et.HttpHeaders(), duration=0.1,
                                      node=et.NodeConfig("http", "es", 9200))
            return cls(kind, meta=meta, body={"error": {"type": kind}, "status": status})

        return make

    return [
        Case("other:elasticsearch", api(es.NotFoundError, 404, "index_not_found_exception"), P,
             "404"),
        Case("other:elasticsearch", api(es.ConflictError, 409,
                                        "version_conflict_engine_exception"), T,
             "409 version conflict"),
        Case("other:elasticsearch", api(es.ApiError, 429, "es_rejected_execution_exception"), T,
             "429"),
        Case("other:elasticsearch", api(es.ApiError, 503, "cluster_block_exception"), T, "503"),
        Case("other:elasticsearch", api(es.BadRequestError, 400, "parsing_exception"), V, "400"),
        Case("other:elasticsearch", api(es.AuthenticationException, 401, "security_exception"),
             P, "401"),
        Case("other:elasticsearch", api(es.ApiError, 409, "resource_already_exists_exception"),
             P, "409 already exists"),
        Case("other:elasticsearch", lambda: et.ConnectionError("Connection refused"), T,
             "transport connection error"),
        Case("other:elasticsearch", lambda: et.ConnectionTimeout("timed out"), TO,
             "transport timeout"),
    ]


def _openai() -> list[Case]:
    import httpx2
    import openai

    request = httpx2.Request("POST", "https://api.example.test/v1/chat/completions")

    def status(cls, code: int, headers: dict | None = None):
        response = httpx2.Response(code, request=request, headers=headers or {})
        return lambda: cls("error", response=response, body=None)

    return [
        Case("other:openai", status(openai.RateLimitError, 429, {"retry-after-ms": "1200"}), T,
             "429 (its own retry: 408, 409, 429, 5xx)"),
        Case("other:openai", status(openai.InternalServerError, 500), T, "500"),
        Case("other:openai", status(openai.AuthenticationError, 401), P, "401"),
        Case("other:openai", status(openai.PermissionDeniedError, 403), P, "403"),
        Case("other:openai", status(openai.NotFoundError, 404), P, "404"),
        Case("other:openai", status(openai.BadRequestError, 400), V, "400"),
        Case("other:openai", status(openai.UnprocessableEntityError, 422), V, "422"),
        Case("other:openai", status(openai.ConflictError, 409), T, "409 (it retries 409)"),
        Case("other:openai", lambda: openai.APIConnectionError(request=request), T,
             "connection error"),
        Case("other:openai", lambda: openai.APITimeoutError(request=request), TO, "timeout"),
    ]


def _aiokafka() -> list[Case]:
    import aiokafka.errors as ak

    return [
        Case("other:aiokafka", lambda: ak.KafkaConnectionError("refused"), T, "connection"),
        Case("other:aiokafka", lambda: ak.NotLeaderForPartitionError(), T, "errno 6"),
        Case("other:aiokafka", lambda: ak.RequestTimedOutError(), TO, "errno 7"),
        Case("other:aiokafka", lambda: ak.TopicAuthorizationFailedError(), P, "errno 29"),
        Case("other:aiokafka", lambda: ak.KafkaTimeoutError(), TO, "client timeout"),
        Case("other:aiokafka", lambda: ak.NoBrokersAvailable(), T, "no broker"),
        Case("other:aiokafka", lambda: ak.IllegalStateError("not subscribed"), P, "misuse"),
    ]


class _Code(enum.Enum):
    UNAVAILABLE = 14
    NOT_FOUND = 5


def _sdk(name: str, base: type = Exception, **attributes):
    cls = type(name, (base,), {"__module__": "acme_cloud_sdk.errors"})

    def make():
        exc = cls(f"{name}: request failed")
        for key, value in attributes.items():
            setattr(exc, key, value)
        return exc

    return make


class _Resp:
    def __init__(self, status: int, headers: dict | None = None) -> None:
        self.status, self.headers = status, headers or {}


def _generic_sdks() -> list[Case]:
    """Made-up SDKs whose errors carry only what many real ones carry, by the usual names."""
    return [
        Case("other:sdk", _sdk("ApiError", status_code=503), T, "status_code 503"),
        Case("other:sdk", _sdk("ApiError", http_status=429, retry_after=5), T, "http_status 429"),
        Case("other:sdk", _sdk("ApiError", code=404), P, "code 404"),
        Case("other:sdk", _sdk("ApiError", resp=_Resp(502)), T, "resp.status 502"),
        Case("other:sdk", _sdk("RpcError", code=lambda: _Code.UNAVAILABLE), T, "code() enum"),
        Case("other:sdk", _sdk("RpcError", code=lambda: _Code.NOT_FOUND), P, "code() enum"),
        Case("other:sdk", _sdk("ServiceError", retryable=True), T, "retryable=True"),
        Case("other:sdk", _sdk("ServiceError", is_retryable=False), P, "is_retryable=False"),
        Case("other:sdk", _sdk("ServiceError", error_code="THROTTLED"), T, "error_code name"),
        Case("other:sdk", _sdk("ServiceError", error_code="INVALID_ARGUMENT"), V, "name"),
        Case("other:sdk", _sdk("ServiceError", code="PERMISSION_DENIED"), P, "code name"),
        Case("other:sdk", _sdk("DbError", sqlstate="40001"), T, "sqlstate"),
        Case("other:sdk", _sdk("NetError", errno=111), T, "errno ECONNREFUSED"),
        Case("other:sdk", _sdk("NetError", ConnectionError, retryable=False), P,
             "its verdict beats its ConnectionError base"),
        Case("other:sdk", _sdk("BadInput", ValueError, status_code=503), T,
             "a 503 beats its ValueError base"),
        Case("other:sdk", _sdk("Conflict", status_code=409), T, "409 without a meaning"),
        Case("other:sdk", _sdk("Conflict", status_code=409, reason="AlreadyExists"), P,
             "409 AlreadyExists"),
        Case("other:sdk", _sdk("ApiError", status=400, errors=[{"reason": "rateLimitExceeded"}]),
             T, "errors[*].reason"),
        Case("other:sdk", _sdk("ApiError", response=_Resp(429, {"Retry-After": "3"})), T,
             "response.status 429"),
        Case("other:sdk", _sdk("QueryError", timeout=True), TO, "timeout flag"),
        Case("other:sdk", _sdk("TxnError", error_labels=["TransientTransactionError"]), T,
             "labels"),
        Case("other:sdk", _sdk("Opaque"), U, "nothing stated: UNKNOWN is the honest answer",
             states=False),
    ]
