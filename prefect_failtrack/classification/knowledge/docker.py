"""Built-in knowledge: Docker (docker-py).

``docker.errors.APIError`` is a ``requests.HTTPError`` with the daemon's response:
its status decides (generic layer), 409 split by what it says ("Conflict. The
container name ... is already in use": PERMANENT; "removal of container ... is
already in progress": TRANSIENT). ``NotFound`` and ``ImageNotFound`` are 404s.
``ContainerError`` is a container that exited non-zero: its command failed, which
a retry of the same command with the same input does not change.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION

_X = "docker.errors"
TYPES = {
    f"{_X}.NotFound": P,
    f"{_X}.ImageNotFound": P,
    f"{_X}.ContainerError": P,
    f"{_X}.BuildError": P,
    f"{_X}.ImageLoadError": P,
    f"{_X}.InvalidArgument": V,
    f"{_X}.InvalidRepository": V,
    f"{_X}.InvalidVersion": P,
    f"{_X}.InvalidConfigFile": P,
    f"{_X}.NullResource": V,
    f"{_X}.MissingContextParameter": V,
    f"{_X}.TLSParameterError": P,
    f"{_X}.DeprecatedMethod": P,
    f"{_X}.ContextAlreadyExists": P,
    f"{_X}.ContextNotFound": P,
    f"{_X}.ContextException": P,
    f"{_X}.StreamParseError": T,
}

GENERIC_TYPES = {
    f"{_X}.APIError": P,  # its status decides first
    f"{_X}.DockerException": P,
}

# docker-py raises DockerException("Error while fetching server API version: ...") when
# the daemon cannot be reached.
TYPE_MESSAGES = {
    f"{_X}.DockerException": [
        (r"error while fetching server api version|connection (?:aborted|refused)"
         r"|no such file or directory", T, "daemon unreachable"),
    ],
}
