"""Built-in knowledge: message patterns, the last resort when no type, status or code decides.

Searched case-insensitively in the first 4 KiB of ``str(exc)``; where several
match, the earliest match in the message wins. Each pattern is a phrase, not a
word, so that a message that merely mentions a number or a noun does not
misfire (a bare ``503`` could be a row number: it counts only next to
"HTTP", "status" or "error").

Choices:
- "quota exceeded" is TRANSIENT: most API quotas are per minute or per day
  and come back on their own; a quota that needs money ("insufficient quota",
  "check your plan and billing") is PERMANENT.
- "out of memory" is TRANSIENT, like ``MemoryError`` and SQLSTATE 53200: the
  memory is often someone else's (a shared database or node). The per-class
  retry budget bounds the cost when it is the task's own.
- "no space left" is PERMANENT, like errno ENOSPC.
- Constraint violations are VALIDATION, like SQLSTATE class 23.
"""

from __future__ import annotations

from ..types import ErrorType

T, P, TO, V, D = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT,
    ErrorType.VALIDATION, ErrorType.DEPENDENCY,
)

_STATUS = r"\b(?:http(?: error)?|status(?:[ _]code)?|error|response|code)\W{0,3}"

MESSAGES = [
    (
        r"insufficient[_ ]quota|exceeded your current quota|check your plan and billing",
        P, "quota exhausted",
    ),
    (r"rate[ -]?limit|too many requests|throttl|reduce your request rate", T, "rate limit"),
    (r"quota (?:exceeded|exhausted)|exceeded (?:the |your )?quota", T, "quota exceeded"),
    (
        _STATUS + r"50[023]\b|service (?:is )?(?:temporarily )?unavailable|bad gateway"
        r"|temporarily unavailable|try again later|server (?:is )?(?:busy|overloaded)",
        T, "server unavailable",
    ),
    (_STATUS + r"504\b|gateway time-?out", TO, "gateway timeout"),
    (r"deadlock", T, "deadlock"),
    (
        r"lock (?:wait )?time-?out|could not obtain lock|lock not available"
        r"|database (?:table )?is locked",
        T, "lock contention",
    ),
    (
        r"too many (?:connections|clients)|remaining connection slots"
        r"|connection pool (?:is )?(?:exhausted|full)|pool limit of size",
        T, "too many connections",
    ),
    (
        r"connection (?:was |has been )?(?:reset|refused|aborted|closed|lost|dropped)"
        r"|broken pipe|server closed the connection|(?:remote end|peer) closed connection"
        r"|upstream connect error|network is unreachable|temporary failure in name resolution",
        T, "connection lost",
    ),
    (r"out of memory|cannot allocate memory|oom[- ]?kill", T, "out of memory"),
    (r"no space left on device|disk (?:is )?full|database or disk is full", P, "disk full"),
    (r"timed? ?out|deadline exceeded", TO, "timed out"),
    (r"certificate verify failed|self[- ]signed certificate", P, "certificate verify failed"),
    (
        r"unauthori[sz]ed|forbidden|permission denied|access denied|authentication failed"
        r"|invalid (?:credentials|api[ _-]?key|access token)"
        r"|(?:token|credentials) (?:has |have )?expired|expired (?:token|credentials)",
        P, "unauthorized",
    ),
    (
        r"duplicate key|unique constraint|violates (?:not-null|foreign key|check|unique)"
        r"|constraint (?:failed|violation)",
        V, "constraint violation",
    ),
    (r"not found|does not exist|no such", P, "not found"),
    (r"already exists", P, "already exists"),
    (
        r"invalid (?:input|value|argument|format|parameter|json|literal)"
        r"|validation (?:error|failed)"
        r"|malformed|could not (?:parse|convert)|failed to (?:parse|decode)|unable to parse",
        V, "invalid input",
    ),
    (
        r"upstream (?:task|flow|job|dependency)(?: run)?s?\b[^\n]{0,200}?"
        r"(?:failed|did not (?:reach|complete|finish|succeed))|dependency (?:has )?failed",
        D, "upstream failed",
    ),
]
