"""Built-in knowledge: message patterns, the last resort when no type, status or code decides."""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V, D = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT,
    ErrorType.VALIDATION, ErrorType.DEPENDENCY,
)

MESSAGES = [
    (r"rate[ -]?limit|too many requests|throttl", T, "rate limit"),
    (r"\b(?:502|503|504)\b|service unavailable|bad gateway|temporarily unavailable", T, "server unavailable"),
    (r"deadlock", T, "deadlock"),
    (r"connection (?:reset|refused|aborted|closed)|broken pipe", T, "connection lost"),
    (r"timed? ?out|deadline exceeded", TO, "timed out"),
    (r"unauthori[sz]ed|forbidden|permission denied|access denied|authentication failed|invalid credentials", P, "unauthorized"),
    (r"not found|does not exist|no such", P, "not found"),
    (r"invalid (?:input|value|argument|format|parameter)|validation (?:error|failed)|malformed", V, "invalid input"),
    (r"upstream .*(?:failed|did not)|dependency failed", D, "upstream failed"),
]
