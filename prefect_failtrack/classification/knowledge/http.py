"""Built-in knowledge: HTTP clients (httpx, requests, urllib3, aiohttp, urllib) and HTTP status.

Errors that carry a response (``httpx.HTTPStatusError``, ``requests.HTTPError``,
aiohttp's ``ClientResponseError`` and ``ContentTypeError``) are judged by their
status; they are only in ``GENERIC_TYPES``, for statuses ``HTTP_STATUS`` does not
know (an unexpected 3xx). A URL that does not parse is VALIDATION: in data
pipelines URLs are built from the data. A redirect loop or a body that does not
decode is the server's doing and will not change on retry: PERMANENT.
"""

from __future__ import annotations

from ..types import ErrorType
from .python import CERTIFICATE_FAILURE

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_AIOHTTP = "aiohttp.client_exceptions"

TYPES = {
    # httpx (every class reports module "httpx")
    "httpx.TimeoutException": TO,
    "httpx.ConnectTimeout": TO,
    "httpx.ReadTimeout": TO,
    "httpx.WriteTimeout": TO,
    "httpx.PoolTimeout": TO,
    "httpx.NetworkError": T,
    "httpx.ConnectError": T,
    "httpx.ReadError": T,
    "httpx.WriteError": T,
    "httpx.CloseError": T,
    "httpx.RemoteProtocolError": T,  # server hung up mid-response
    "httpx.ProxyError": T,
    "httpx.LocalProtocolError": P,  # we sent something HTTP does not allow
    "httpx.UnsupportedProtocol": V,  # "Request URL is missing an 'http://' or 'https://' protocol"
    "httpx.InvalidURL": V,
    "httpx.TooManyRedirects": P,
    "httpx.DecodingError": P,
    "httpx.StreamError": P,  # RequestNotRead, StreamConsumed...: a bug in the caller
    "httpx.CookieConflict": P,
    # requests (ConnectTimeout is both a ConnectionError and a Timeout: listed)
    "requests.exceptions.Timeout": TO,
    "requests.exceptions.ConnectTimeout": TO,
    "requests.exceptions.ReadTimeout": TO,
    "requests.exceptions.ConnectionError": T,
    "requests.exceptions.SSLError": T,  # certificate failures: TYPE_MESSAGES
    "requests.exceptions.ProxyError": T,
    "requests.exceptions.ChunkedEncodingError": T,  # "Connection broken: IncompleteRead"
    "requests.exceptions.RetryError": T,  # urllib3 gave up on repeated 5xx
    "requests.exceptions.ContentDecodingError": P,
    "requests.exceptions.TooManyRedirects": P,
    "requests.exceptions.InvalidURL": V,
    "requests.exceptions.MissingSchema": V,
    "requests.exceptions.InvalidSchema": V,
    "requests.exceptions.URLRequired": V,
    "requests.exceptions.InvalidHeader": V,
    "requests.exceptions.InvalidJSONError": V,  # body not serialisable / response not JSON
    "requests.exceptions.StreamConsumedError": P,
    "requests.exceptions.UnrewindableBodyError": P,
    # urllib3 (NewConnectionError subclasses ConnectTimeoutError: listed)
    "urllib3.exceptions.TimeoutError": TO,
    "urllib3.exceptions.ConnectTimeoutError": TO,
    "urllib3.exceptions.ReadTimeoutError": TO,
    "urllib3.exceptions.NewConnectionError": T,  # refused, DNS (NameResolutionError)
    "urllib3.exceptions.ProtocolError": T,  # a.k.a. urllib3.exceptions.ConnectionError
    "urllib3.exceptions.ProxyError": T,
    "urllib3.exceptions.SSLError": T,
    "urllib3.exceptions.ResponseError": T,  # "too many 503 error responses"
    "urllib3.exceptions.EmptyPoolError": TO,  # blocked waiting for a pooled connection
    "urllib3.exceptions.ClosedPoolError": P,
    "urllib3.exceptions.DecodeError": P,
    "urllib3.exceptions.LocationValueError": V,
    # aiohttp (module aiohttp.client_exceptions)
    f"{_AIOHTTP}.ClientConnectionError": T,
    f"{_AIOHTTP}.ClientConnectorError": T,  # refused, DNS, TLS handshake
    f"{_AIOHTTP}.ClientOSError": T,
    f"{_AIOHTTP}.ServerDisconnectedError": T,
    f"{_AIOHTTP}.ClientPayloadError": T,  # "Response payload is not completed"
    f"{_AIOHTTP}.ServerTimeoutError": TO,  # ConnectionTimeoutError, SocketTimeoutError
    f"{_AIOHTTP}.ClientConnectorCertificateError": P,
    f"{_AIOHTTP}.ServerFingerprintMismatch": P,
    f"{_AIOHTTP}.InvalidURL": V,
    f"{_AIOHTTP}.NonHttpUrlClientError": V,
    f"{_AIOHTTP}.InvalidUrlRedirectClientError": P,  # the server redirected to garbage
    f"{_AIOHTTP}.NonHttpUrlRedirectClientError": P,
    f"{_AIOHTTP}.TooManyRedirects": P,
    # urllib: URLError is the base of HTTPError, hence generic below
    "urllib.error.ContentTooShortError": T,
}

# httpcore (under httpx; its errors reach a task when a library uses it directly)
_HTTPCORE = {
    "TimeoutException": TO,
    "ConnectTimeout": TO,
    "ReadTimeout": TO,
    "WriteTimeout": TO,
    "PoolTimeout": TO,
    "NetworkError": T,
    "ConnectError": T,
    "ReadError": T,
    "WriteError": T,
    "RemoteProtocolError": T,
    "ProxyError": T,
    "LocalProtocolError": P,
    "UnsupportedProtocol": V,
}
TYPES.update({f"httpcore.{name}": kind for name, kind in _HTTPCORE.items()})
# httpx2 and httpcore2: forks of httpx and httpcore with the same classes, which some SDKs
# ship with (openai); their errors mean what httpx's and httpcore's do.
TYPES.update({f"httpx2.{n[6:]}": k for n, k in list(TYPES.items()) if n.startswith("httpx.")})
TYPES.update({f"httpcore2.{name}": kind for name, kind in _HTTPCORE.items()})

GENERIC_TYPES = {
    "httpx2.HTTPStatusError": P,
    "httpx2.TransportError": T,
    "httpx.HTTPStatusError": P,  # only for statuses HTTP_STATUS does not list (3xx)
    "httpx.TransportError": T,
    "requests.exceptions.HTTPError": P,
    f"{_AIOHTTP}.ClientResponseError": P,
    f"{_AIOHTTP}.ContentTypeError": V,  # resp.json() on a 200 that is not JSON
    "urllib3.exceptions.MaxRetryError": T,  # its .reason (refused, cert...) decides first
    "urllib3.exceptions.PoolError": T,
    "urllib.error.URLError": T,
    "urllib.error.HTTPError": P,
}

# Connection errors wrap TLS failures; a certificate that does not verify will
# not verify on the next attempt either.
TYPE_MESSAGES = {
    name: [(CERTIFICATE_FAILURE, P, "certificate verify failed")]
    for name in (
        "httpx.ConnectError",
        "requests.exceptions.SSLError",
        "urllib3.exceptions.SSLError",
        "urllib3.exceptions.MaxRetryError",
        f"{_AIOHTTP}.ClientSSLError",
        "urllib.error.URLError",
    )
}

# Ranges first, then single codes: later keys win.
HTTP_STATUS = {
    range(400, 500): P,
    range(500, 600): T,
    400: V,
    422: V,
    401: P,
    403: P,
    404: P,
    405: P,
    410: P,
    408: TO,
    409: T,  # a concurrent modification; the next attempt usually goes through
    423: T,  # Locked (WebDAV): held by someone else for now
    425: T,
    429: T,
    500: T,
    502: T,
    503: T,
    504: TO,
    501: P,
    505: P,
}
