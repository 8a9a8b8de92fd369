"""Built-in knowledge: Kubernetes (the ``kubernetes`` client).

``ApiException`` carries the HTTP ``status`` and the API server's ``Status`` object as
JSON in ``body``, whose ``reason`` names the failure (``metav1.StatusReason`` in
k8s.io/apimachinery ``pkg/apis/meta/v1/types.go``): ``AlreadyExists`` and
``Conflict`` are both 409, but only the second ("the object has been modified; please
apply your changes to the latest version and try again") goes away on retry.
``Expired`` / ``Gone`` (410) ask for a new list: a fresh attempt does that.
"""

from __future__ import annotations

from ..facts import CodeSource
from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

CODE_SOURCES = {
    "kubernetes.client.exceptions.ApiException": [
        CodeSource("kubernetes", code="body|json['reason']"),
    ],
}

CODES = {
    "kubernetes": {
        "ALREADYEXISTS": P,
        "CONFLICT": T,
        "NOTFOUND": P,
        "UNAUTHORIZED": P,
        "FORBIDDEN": P,
        "INVALID": V,
        "BADREQUEST": V,
        "METHODNOTALLOWED": P,
        "NOTACCEPTABLE": P,
        "REQUESTENTITYTOOLARGE": V,
        "UNSUPPORTEDMEDIATYPE": P,
        "GONE": T,
        "EXPIRED": T,
        "TOOMANYREQUESTS": T,
        "SERVERTIMEOUT": TO,
        "TIMEOUT": TO,
        "INTERNALERROR": T,
        "SERVICEUNAVAILABLE": T,
    },
}

_X = "kubernetes.client.exceptions"
TYPES = {
    f"{_X}.ApiTypeError": P,  # wrong argument types given to the client
    f"{_X}.ApiValueError": V,
    f"{_X}.ApiKeyError": P,
    f"{_X}.ApiAttributeError": P,
    "kubernetes.config.config_exception.ConfigException": P,
}

GENERIC_TYPES = {
    f"{_X}.ApiException": P,  # its body's reason and status decide first
    f"{_X}.OpenApiException": P,
}
