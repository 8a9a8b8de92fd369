"""Secrets out of messages, stack traces and metadata before anything is stored or logged.

Every built-in pattern runs in linear time: it starts at a literal, or at the
start of a token (a look-behind stops it restarting inside the same run), and
its repetitions are bounded or cannot backtrack. A pattern only runs when a
cheap substring test finds its keyword, so ordinary text costs a few
microseconds and a megabyte of hostile text well under a second. On any
internal error the whole text is masked: redaction fails closed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from prefect.logging import get_logger

from .settings import get_settings

logger = get_logger("prefect_failtrack.redaction")

MARK = "[REDACTED]"
FAILED = "[REDACTED: redaction failed]"
MAX_DEPTH = 32
MAX_NODES = 10_000

#: A key is secret when its name, lower-cased and without separators, ends with one of these:
#: ``db_password``, ``clientSecret``, ``X-Api-Key``, ``aws_session_token`` (not ``max_tokens``).
SECRET_KEY_ENDINGS = (
    "password", "passwords", "passwd", "pwd", "passphrase", "secret", "secrets", "token",
    "apikey", "accesskey", "accountkey", "secretkey", "privatekey", "authorization", "auth",
    "credential", "credentials", "cookie", "cookies", "signature",
)  # fmt: skip


def _ci(words: str) -> str:
    """`words` (a plain regex) matching either case: ``pwd`` -> ``[pP][wW][dD]``.

    Spelled out because ``re.IGNORECASE`` keeps the engine from skipping ahead to
    candidate first letters: it made the key=value pass several times slower.
    """
    return re.sub(r"[a-z]", lambda m: f"[{m[0]}{m[0].upper()}]", words)


# The same names in free text, as the end of a key that is followed by a separator.
_KEY = _ci(
    r"(?:pass(?:word|wd|phrase)|pwd|secret|token|(?:api|access|account|secret|private)[_-]?key"
    r"|credentials|cookie|signature|sig)"
)

Replacement = str | Callable[[re.Match[str]], str]


def _key_value(m: re.Match[str]) -> str:
    value = m.group(2)
    quote = value[0] if value[0] in "'\"" else ""
    return f"{m.group(1)}{quote}{MARK}{quote}"


class _Pattern:
    """A regular expression compiled when first used: most processes redact little, and
    importing failtrack must stay cheap (every flow-run process pays for it)."""

    __slots__ = ("_compiled", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._compiled: re.Pattern[str] | None = None

    def sub(self, replacement: Replacement, text: str) -> str:
        if self._compiled is None:
            self._compiled = re.compile(self.source, re.ASCII)
        return self._compiled.sub(replacement, text)


_Rule = tuple[frozenset[str], _Pattern, Replacement]


def _rule(needles: str, pattern: str, replacement: Replacement) -> _Rule:
    """A pattern that only runs when one of `needles` is in the lower-cased text."""
    return frozenset(needles.split()), _Pattern(pattern), replacement


_KEEP = rf"\1{MARK}"  # keep group 1, redact the rest of the match
_AKIA = "akia asia agpa aida aroa aipa anpa anva"
_BUILTIN: list[_Rule] = [
    # scheme://user:PASSWORD@host — the password runs to the last "@" before the path,
    # as urllib splits it; "/" ends it, so every "://" scans at most one netloc.
    _rule("://", r"(://[^\s:/?#@\[\]'\"<>]*+:)[^\s/?#'\"<>]*@", rf"\1{MARK}@"),
    _rule(
        "hooks.slack discord",
        r"((?:hooks\.slack\.com/(?:services|workflows)|discord(?:app)?\.com/api/webhooks)/)"
        r"[\w/+-]+",
        _KEEP,
    ),
    # Authorization: <scheme> VALUE — keep the header and the scheme, drop the credentials.
    _rule(
        "authorization",
        "(?=[aApP])(" + _ci("(?:proxy-)?authorization") + r"[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?)"
        "(" + _ci("(?:bearer|basic|digest|token|negotiate|ntlm|apikey|aws4-hmac-sha256)")
        + r"[ \t]+)?[^\s'\",]++",
        rf"\1\2{MARK}",  # an unmatched group 2 (no scheme) substitutes as ""
    ),
    # Bearer/Basic credentials anywhere; the look-ahead wants a digit or symbol so that
    # "Bearer authentication" and "Basic auth" stay readable.
    _rule(
        "bearer",
        rf"(?<![\w-])({_ci('bearer')}[ \t]+)(?=[A-Za-z]*+[\d\-.~+/])[\w\-.~+/]++=*",
        _KEEP,
    ),
    _rule("basic", rf"(?<![\w-])({_ci('basic')}[ \t]+)(?=[A-Za-z]*+[\d+/=])[\w+/]{{6,}}+=*", _KEEP),
    # AWS access key ids: a 4-letter kind prefix and 16 upper-case characters.
    _rule(
        _AKIA,
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        "[REDACTED:aws-access-key]",
    ),
    # A 40-character secret access key shortly after "secret" or after an access key id.
    _rule(
        f"secret {_AKIA}",
        rf"((?:{_ci('secret')}|aws-access-key\])[^\n]{{0,30}}?)"
        r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![\w/+=])",
        r"\1[REDACTED:aws-secret-key]",
    ),
    _rule(
        "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
        r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_\w{20,255})",
        "[REDACTED:github-token]",
    ),
    _rule("sk-", r"(?<![\w-])sk-(?:proj-)?[\w-]{20,}+", "[REDACTED:openai-key]"),
    _rule("glpat-", r"(?<!\w)glpat-[\w-]{20,64}", "[REDACTED:gitlab-token]"),
    _rule("xox", r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,250}", "[REDACTED:slack-token]"),
    _rule("aiza", r"(?<![\w-])AIza[\w-]{35}", "[REDACTED:google-api-key]"),
    _rule("ya29.", r"(?<![\w-])ya29\.[\w-]{20,}+", "[REDACTED:google-oauth-token]"),
    # JWT: base64url('{"...') twice, dot-separated, then the signature.
    _rule("eyj", r"(?<![\w-])eyJ[\w-]{5,}+\.eyJ[\w-]{5,}+\.[\w-]*+", "[REDACTED:jwt]"),
    _rule(
        "_live_ _test_ whsec_",
        r"(?<!\w)(?:(?:sk|rk)_(?:live|test)|whsec)_[0-9A-Za-z]{10,}+",
        "[REDACTED:stripe-key]",
    ),
    # key=value, key: value, "key": "value", key='value' (libpq, JSON, YAML, query strings).
    # A quoted value runs to its closing quote (or the line's end when cut off); a bare one
    # to whitespace or one of & ; , quotes. Values already redacted are left alone.
    _rule(
        "pass pwd secret token key credentials cookie sig",
        # The look-ahead (first letters of the keys) is a cheap test that spares trying every
        # alternative at every position: it more than halves the time of this pass.
        rf"(?=[acpstACPST])({_KEY}[\"']?[ \t]{{0,8}}[:=][ \t]{{0,8}})"
        r"(\"(?:[^\"\\\n]|\\.)*+\"?|'(?:[^'\\\n]|\\.)*+'?|(?!\[REDACTED)[^\s&;,'\"]++)",
        _key_value,
    ),
]

_NEEDLES = frozenset().union(*(needles for needles, _, _ in _BUILTIN))

# -----BEGIN [RSA|EC|OPENSSH|ENCRYPTED|PGP ...] PRIVATE KEY[ BLOCK]-----
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ ){0,4})PRIVATE KEY(?: BLOCK)?-----")


def _redact_pem(text: str) -> str:
    """Everything between a private key's BEGIN line and the next END line (or the text's end)."""
    if "PRIVATE KEY" not in text:
        return text
    parts, pos = [], 0
    while (m := _PEM_BEGIN.search(text, pos)) is not None:
        parts += [text[pos : m.end()], MARK]
        end = text.find("-----END ", m.end())
        pos = len(text) if end < 0 else end
    parts.append(text[pos:])
    return "".join(parts)


_LONGEST_ENDING = max(map(len, SECRET_KEY_ENDINGS))


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``password``, ``apiKey``, ``X-Auth-Token``...)."""
    tail: list[str] = []
    for c in reversed(key):  # only its end matters: a megabyte of key costs no more to test
        if c.isalnum():
            tail.append(c.lower())
            if len(tail) == _LONGEST_ENDING:
                break
    return "".join(reversed(tail)).endswith(SECRET_KEY_ENDINGS)


def _safe_str(obj: Any) -> str:
    try:
        return str(obj)
    except Exception:
        return f"<unprintable {type(obj).__name__}>"


class Redactor:
    """Built-in secret patterns plus extra ones, compiled once.

    An extra pattern's whole match is replaced, or only its group named ``secret``
    when it has one: ``r"ticket=(?P<secret>\\w+)"`` keeps ``ticket=``.
    """

    def __init__(
        self,
        extra_patterns: Iterable[str | re.Pattern[str]] = (),
        *,
        on_invalid: Callable[[str, Exception], None] | None = None,
    ) -> None:
        """Invalid extra patterns raise ``ValueError``, or go to `on_invalid` and are skipped."""
        self.extra: list[re.Pattern[str]] = []
        for pattern in extra_patterns:
            try:
                compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
                self.extra.append(compiled)
            except (re.error, TypeError, ValueError, OverflowError, RecursionError) as error:
                if on_invalid is None:
                    raise ValueError(f"invalid redaction pattern {pattern!r}: {error}") from error
                on_invalid(str(pattern), error)

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by a marker; never raises."""
        try:
            if not isinstance(text, str):
                text = _safe_str(text)
            lowered = text.lower()
            present = {needle for needle in _NEEDLES if needle in lowered}
            text = _redact_pem(text)
            for needles, pattern, replacement in _BUILTIN:
                if not needles.isdisjoint(present):
                    text = pattern.sub(replacement, text)
            for pattern in self.extra:
                text = pattern.sub(self._extra_replacement, text)
            return text
        except Exception:
            return FAILED

    @staticmethod
    def _extra_replacement(m: re.Match[str]) -> str:
        if "secret" not in m.re.groupindex or m.start("secret") < 0:
            return MARK
        start, end = m.span("secret")
        whole = m.group(0)
        return whole[: start - m.start()] + MARK + whole[end - m.start() :]

    def redact_value(self, obj: Any) -> Any:
        """A JSON-safe copy of `obj` with secrets redacted; never raises.

        Strings are redacted, values under secret-looking keys replaced whole, other
        non-JSON values become their redacted ``str()``. Nesting deeper than
        ``MAX_DEPTH``, cycles and anything past ``MAX_NODES`` containers become markers.
        """
        try:
            return self._walk(obj, 0, [MAX_NODES], set())
        except Exception:
            return FAILED

    def _walk(self, obj: Any, depth: int, budget: list[int], path: set[int]) -> Any:
        if obj is None or isinstance(obj, bool):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else str(obj)
        if isinstance(obj, str):
            return self.redact(obj)
        if not isinstance(obj, Mapping | list | tuple):
            return self.redact(_safe_str(obj))
        if id(obj) in path:
            return "[cycle]"
        budget[0] -= 1
        if depth >= MAX_DEPTH or budget[0] < 0:
            return "[truncated]"
        path.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                out: dict[str, Any] = {}
                for key, value in obj.items():
                    name = key if isinstance(key, str) else _safe_str(key)
                    secret = value is not None and is_secret_key(name)
                    value = MARK if secret else self._walk(value, depth + 1, budget, path)
                    out[self.redact(name)] = value
                return out
            return [self._walk(item, depth + 1, budget, path) for item in obj]
        finally:
            path.discard(id(obj))


_added_patterns: list[str] = []


def add_patterns(*patterns: str) -> None:
    """Extra patterns for this process, on top of the settings' (the configuration block's go here).

    Invalid patterns raise ``ValueError`` and none is added; a pattern already added is
    not added twice. The next `get_redactor` call builds a redactor with them.
    """
    Redactor(patterns)  # raises on an invalid pattern
    _added_patterns.extend(p for p in dict.fromkeys(patterns) if p not in _added_patterns)
    get_redactor.cache_clear()


@cache
def get_redactor() -> Redactor:
    """The redactor for the configured extra patterns, built once per process.

    Patterns come from the settings, then from `add_patterns`. Invalid ones are logged
    and skipped. ``get_redactor.cache_clear()`` makes the next call read the settings
    again (reading them costs about a millisecond).
    """
    try:
        patterns: list[str] = list(get_settings().redaction_patterns)
    except Exception as error:  # unreadable settings: built-in patterns only
        logger.warning("Could not read the redaction patterns from settings: %s", error)
        patterns = []
    patterns += [p for p in _added_patterns if p not in patterns]

    def warn(pattern: str, error: Exception) -> None:
        logger.warning("Ignoring invalid redaction pattern %r: %s", pattern, error)

    return Redactor(patterns, on_invalid=warn)


def truncate(text: str | None, limit: int) -> str | None:
    """At most `limit` characters, the cut marked ``… [truncated N chars]`` within the limit."""
    if text is None or len(text) <= limit:
        return text
    limit = max(limit, 0)
    kept = max(limit - len(f"… [truncated {len(text)} chars]"), 0)
    marker = f"… [truncated {len(text) - kept} chars]"
    return text[:limit] if len(marker) > limit else text[:kept] + marker
