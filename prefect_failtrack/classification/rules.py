"""Classification rules: small, pure objects that look at one exception and may decide.

A rule is called with one exception (one link of a chain) and returns a
`Verdict` or ``None`` ("not mine"). Rules compose with ``|`` into a `RuleSet`,
which asks its rules in order; the first that decides wins. A plain callable
``(exc) -> ErrorType | Verdict | None`` is accepted wherever a rule is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

from . import introspect
from .types import ERROR_TYPE_ATTR, ErrorType, Verdict


class Rule:
    """Base of all rules: ``rule(exc) -> Verdict | None``."""

    def __call__(self, exc: BaseException) -> Verdict | None:
        raise NotImplementedError

    def __or__(self, other: RuleLike) -> RuleSet:
        return RuleSet([self, other])

    def __ror__(self, other: RuleLike) -> RuleSet:
        return RuleSet([other, self])


RuleLike = Union[Rule, Callable[[BaseException], Union[ErrorType, Verdict, None]]]


def _as_verdict(value: Any, reason: str) -> Verdict | None:
    if value is None or isinstance(value, Verdict):
        return value
    return Verdict(ErrorType(value), reason)


class FunctionRule(Rule):
    """Wraps a plain callable returning an `ErrorType`, a `Verdict` or ``None``."""

    def __init__(self, fn: Callable[[BaseException], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or f"rule {getattr(fn, '__qualname__', repr(fn))}"

    def __call__(self, exc: BaseException) -> Verdict | None:
        return _as_verdict(self.fn(exc), self.name)


def as_rule(rule: RuleLike) -> Rule:
    """A `Rule` from a rule or a plain callable."""
    if isinstance(rule, Rule):
        return rule
    if callable(rule):
        return FunctionRule(rule)
    raise TypeError(
        f"Expected a classification rule or a callable (exc) -> ErrorType | None, got {rule!r}."
    )


class RuleSet(Rule):
    """Rules asked in order; the first that decides wins. Nested sets flatten."""

    def __init__(self, rules: Iterable[RuleLike] = ()) -> None:
        flat: list[Rule] = []
        for rule in rules:
            rule = as_rule(rule)
            flat.extend(rule.rules if isinstance(rule, RuleSet) else [rule])
        self.rules: tuple[Rule, ...] = tuple(flat)

    def __call__(self, exc: BaseException) -> Verdict | None:
        for rule in self.rules:
            verdict = rule(exc)
            if verdict is not None:
                return verdict
        return None

    def __len__(self) -> int:
        return len(self.rules)

    def __repr__(self) -> str:
        return f"RuleSet({list(self.rules)!r})"


class CarriedRule(Rule):
    """A class carried by the exception itself: a marker, a decorated type, or `mark()`."""

    def __call__(self, exc: BaseException) -> Verdict | None:
        carried = introspect.safe_getattr(exc, ERROR_TYPE_ATTR)
        if carried is None:
            return None
        try:
            kind = ErrorType(carried)
        except Exception:  # not a class name, or an object whose __eq__/__hash__ raises
            return None
        return Verdict(kind, "carried by the exception")


class TypeRule(Rule):
    """Exception types (classes or dotted names) to classes; the most specific type wins.

    Dotted names are matched against ``module.QualName`` of every class in the
    exception's MRO, so a library never has to be imported to be known.

    `messages` refines types by message: ``{type: [(regex, ErrorType, label)]}``,
    for broad types whose message is the only clue (a ``psycopg.OperationalError``
    raised while connecting has no SQLSTATE, but ``database "x" does not exist``
    is not worth retrying). Walking the MRO from the most specific class, a
    class's patterns are searched before its own entry in `mapping`.
    """

    def __init__(
        self,
        mapping: Mapping[type[BaseException] | str, ErrorType | str],
        messages: Mapping[type[BaseException] | str, Iterable[tuple[str, ErrorType, str]]]
        | None = None,
    ) -> None:
        self.table: dict[str, ErrorType] = {}
        for key, kind in mapping.items():
            self.table[_type_key(key)] = ErrorType(kind)
        self.messages: dict[str, MessagePatterns] = {
            _type_key(key): MessagePatterns(entries) for key, entries in (messages or {}).items()
        }
        self._cache: dict[type, tuple[tuple[tuple[str, MessagePatterns], ...], Verdict | None]] = {}

    def __call__(self, exc: BaseException) -> Verdict | None:
        cls = type(exc)
        try:
            patterns, verdict = self._cache[cls]
        except KeyError:
            patterns, verdict = self._plan(cls)
            if len(self._cache) < 4096:
                self._cache[cls] = (patterns, verdict)
        if patterns:
            message = introspect.safe_message(exc)
            for name, found_in in patterns:
                found = found_in.find(message)
                if found is not None:
                    return Verdict(found[0], f"type {name} message '{found[1]}'")
        return verdict

    def _plan(
        self, cls: type
    ) -> tuple[tuple[tuple[str, MessagePatterns], ...], Verdict | None]:
        patterns: list[tuple[str, MessagePatterns]] = []
        for name in introspect.mro_names(cls):
            if name in self.messages:
                patterns.append((name, self.messages[name]))
            kind = self.table.get(name)
            if kind is not None:
                return tuple(patterns), Verdict(kind, f"type {name}")
        return tuple(patterns), None

    def __or__(self, other: RuleLike) -> RuleSet:
        return RuleSet([self, other])


def _type_key(key: type[BaseException] | str) -> str:
    return key if isinstance(key, str) else introspect.qualified_name(key)


class MessageRule(Rule):
    """A regular expression searched in the exception's message (case-insensitive by default)."""

    def __init__(
        self, pattern: str | re.Pattern[str], kind: ErrorType | str, name: str | None = None,
        flags: int = re.IGNORECASE,
    ) -> None:
        self.pattern = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        self.kind = ErrorType(kind)
        self.name = name or f"message /{self.pattern.pattern}/"

    def __call__(self, exc: BaseException) -> Verdict | None:
        if self.pattern.search(introspect.safe_message(exc)):
            return Verdict(self.kind, self.name)
        return None


class MessagePatterns(Rule):
    """Many message patterns searched in one pass (one alternation with named groups).

    Where several patterns match, the one matching earliest in the message wins
    (and, at the same place, the one listed first). Patterns must not define
    capturing groups of their own: use ``(?:...)``.
    """

    def __init__(self, patterns: Iterable[tuple[str, ErrorType, str]]) -> None:
        self.entries = [(pattern, ErrorType(kind), label) for pattern, kind, label in patterns]
        alternation = "|".join(
            f"(?P<p{i}>{pattern})" for i, (pattern, _, _) in enumerate(self.entries)
        )
        self.regex = re.compile(alternation or r"(?!)", re.IGNORECASE)

    def find(self, message: str) -> tuple[ErrorType, str] | None:
        """The class and label of the first pattern found in `message`, if any."""
        match = self.regex.search(message)
        if match is None or match.lastgroup is None:
            return None
        _, kind, label = self.entries[int(match.lastgroup[1:])]
        return kind, label

    def __call__(self, exc: BaseException) -> Verdict | None:
        found = self.find(introspect.safe_message(exc))
        if found is None:
            return None
        return Verdict(found[0], f"message '{found[1]}'")


def _status_table(mapping: Mapping[int | range, ErrorType | str]) -> dict[int, ErrorType]:
    table: dict[int, ErrorType] = {}
    for key, kind in mapping.items():  # later keys win, so ranges go first
        for code in key if isinstance(key, range) else (key,):
            table[code] = ErrorType(kind)
    return table


class HttpStatusRule(Rule):
    """HTTP response status (from httpx, requests, aiohttp, urllib, botocore, google) to a class."""

    def __init__(self, mapping: Mapping[int | range, ErrorType | str]) -> None:
        self.table = _status_table(mapping)

    def __call__(self, exc: BaseException) -> Verdict | None:
        status = introspect.http_status(exc)
        if status is None or status not in self.table:
            return None
        return Verdict(self.table[status], f"http {status}", introspect.requested_delay(exc))


class SqlstateRule(Rule):
    """SQLSTATE codes to classes: an exact 5-character code beats its 2-character class."""

    def __init__(self, mapping: Mapping[str, ErrorType | str]) -> None:
        self.table = {code.upper(): ErrorType(kind) for code, kind in mapping.items()}

    def __call__(self, exc: BaseException) -> Verdict | None:
        code = introspect.sqlstate(exc)
        if code is None:
            return None
        for key in (code, code[:2]):
            if key in self.table:
                return Verdict(self.table[key], f"sqlstate {code}")
        return None


class CloudCodeRule(Rule):
    """Cloud SDK error codes (botocore ``Error.Code``, Google API reasons) to classes."""

    def __init__(self, mapping: Mapping[str, ErrorType | str]) -> None:
        self.table = {code: ErrorType(kind) for code, kind in mapping.items()}

    def __call__(self, exc: BaseException) -> Verdict | None:
        code = introspect.cloud_error_code(exc)
        if code is None or code not in self.table:
            return None
        return Verdict(self.table[code], f"cloud code {code}", introspect.requested_delay(exc))


class ErrnoRule(Rule):
    """``OSError.errno`` values to classes."""

    def __init__(self, mapping: Mapping[int, ErrorType | str]) -> None:
        self.table = {int(code): ErrorType(kind) for code, kind in mapping.items()}

    def __call__(self, exc: BaseException) -> Verdict | None:
        code = introspect.os_errno(exc)
        if code is None or code not in self.table:
            return None
        return Verdict(self.table[code], f"errno {code}")
