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
from .facts import ALWAYS, REASON_ATTRIBUTES, Facts, read_facts
from .types import ERROR_TYPE_ATTR, ErrorType, Verdict


class Rule:
    """Base of all rules: ``rule(exc) -> Verdict | None``."""

    #: Attributes of the exception without which this rule never decides; the engine does not
    #: ask it about an exception that has none of them. ``None``: no such promise (user rules).
    needs: frozenset[str] | None = None

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

    needs = introspect.CARRIED_ATTRIBUTES

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

    `scope` splits the Python builtins (names without a dot: ``ValueError``,
    ``ConnectionError``) from the rest, so that what a library says about its own
    error (its status, code, verdict: `facts`) is asked before the builtin it
    happens to subclass: ``"library"`` answers for listed library types, and for
    builtins only on exceptions of a builtin class; ``"bases"`` answers only with a
    builtin, for exceptions of a library's class. ``"all"`` (the default) answers all.
    """

    def __init__(
        self,
        mapping: Mapping[type[BaseException] | str, ErrorType | str],
        messages: Mapping[type[BaseException] | str, Iterable[tuple[str, ErrorType, str]]]
        | None = None,
        scope: str = "all",
    ) -> None:
        if scope not in ("all", "library", "bases"):
            raise ValueError(f"scope must be 'all', 'library' or 'bases', not {scope!r}")
        self.scope = scope
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
        names = introspect.mro_names(cls)
        own_is_builtin = "." not in names[0]
        for name in names:
            if name in self.messages:
                patterns.append((name, self.messages[name]))
            kind = self.table.get(name)
            if kind is not None:
                if self.scope != "all" and "." not in name and not own_is_builtin:
                    kind = kind if self.scope == "bases" else None  # a library's subclass
                elif self.scope == "bases":
                    kind = None
                if kind is None:
                    return tuple(patterns) if self.scope != "bases" else (), None
                return tuple(patterns), Verdict(kind, f"type {name}")
        return (tuple(patterns) if self.scope != "bases" else ()), None

    def __or__(self, other: RuleLike) -> RuleSet:
        return RuleSet([self, other])


def _type_key(key: type[BaseException] | str) -> str:
    return key if isinstance(key, str) else introspect.qualified_name(key)


class TypeNameRule(Rule):
    """A library's class *names* its error: ``ConnectionTimeout``, ``RateLimitError``.

    For exceptions no table knows: the names of the non-builtin classes of the MRO, the most
    specific first, are searched with `patterns` (``[(regex, ErrorType, label)]``, searched
    case-sensitively in the bare class name). Cached per class.
    """

    def __init__(self, patterns: Iterable[tuple[str, ErrorType | str, str]]) -> None:
        self.entries = [(re.compile(p), ErrorType(kind), label) for p, kind, label in patterns]
        self._cache: dict[type, Verdict | None] = {}

    def __call__(self, exc: BaseException) -> Verdict | None:
        cls = type(exc)
        try:
            return self._cache[cls]
        except KeyError:
            pass
        verdict = self._plan(cls)
        if len(self._cache) < 4096:
            self._cache[cls] = verdict
        return verdict

    def _plan(self, cls: type) -> Verdict | None:
        for name in introspect.mro_names(cls):
            if "." not in name:  # builtins (and object) say nothing here
                continue
            bare = name.rsplit(".", 1)[1]
            for pattern, kind, label in self.entries:
                if pattern.search(bare):
                    return Verdict(kind, f"type name {bare} ({label})")
        return None


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

    The alternation tries every pattern at every position of the message (about 2 µs
    a character here). So, for ASCII messages, a cheaper first pass: each pattern's
    *clues* (literal phrases one of which any match must contain, read from the
    pattern itself) are looked up in the lower-cased message, and only the patterns
    whose clues are there are searched, in an alternation of just those. Non-ASCII
    messages (where case folding is subtler) take the full alternation.
    """

    def __init__(self, patterns: Iterable[tuple[str, ErrorType, str]]) -> None:
        self.entries = [(pattern, ErrorType(kind), label) for pattern, kind, label in patterns]
        # Compiled and read for clues when first searched: most processes never search
        # (a task that fails is rarely decided by its message), and importing failtrack
        # must stay cheap (issue 18: every flow-run process pays for it).
        self._regex: re.Pattern[str] | None = None
        self._subsets: dict[frozenset[int], re.Pattern[str]] = {}
        self._clued: tuple[list[int], list[tuple[str, int]]] | None = None

    @property
    def regex(self) -> re.Pattern[str]:
        """One alternation of every pattern, named ``p<index>``."""
        if self._regex is None:
            alternation = "|".join(
                f"(?P<p{i}>{pattern})" for i, (pattern, _, _) in enumerate(self.entries)
            )
            self._regex = re.compile(alternation or r"(?!)", re.IGNORECASE)
        return self._regex

    def _clues(self) -> tuple[list[int], list[tuple[str, int]]]:
        """(patterns without clues: searched every time, (clue, pattern) pairs)."""
        if self._clued is None:
            always: list[int] = []
            clues: list[tuple[str, int]] = []
            for i, (pattern, _, _) in enumerate(self.entries):
                found = literal_clues(pattern)
                if found is None:
                    always.append(i)
                else:
                    clues.extend((clue, i) for clue in found)
            self._clued = (always, clues)
        return self._clued

    def find(self, message: str) -> tuple[ErrorType, str] | None:
        """The class and label of the first pattern found in `message`, if any."""
        regex = self.regex if not message.isascii() else self._regex_for(message)
        match = regex.search(message) if regex is not None else None
        if match is None or match.lastgroup is None:
            return None
        _, kind, label = self.entries[int(match.lastgroup[1:])]
        return kind, label

    def _regex_for(self, message: str) -> re.Pattern[str] | None:
        """The alternation of the patterns whose clues are in (ASCII) `message`; None: none."""
        lowered = message.lower()
        always, clues = self._clues()
        candidates = set(always)
        for clue, i in clues:
            if clue in lowered:
                candidates.add(i)
        if not candidates:
            return None
        key = frozenset(candidates)
        regex = self._subsets.get(key)
        if regex is None:
            regex = re.compile(
                "|".join(f"(?P<p{i}>{self.entries[i][0]})" for i in sorted(key)), re.IGNORECASE
            )
            if len(self._subsets) < 1024:
                self._subsets[key] = regex
        return regex

    def __call__(self, exc: BaseException) -> Verdict | None:
        found = self.find(introspect.safe_message(exc))
        if found is None:
            return None
        return Verdict(found[0], f"message '{found[1]}'")


def literal_clues(pattern: str) -> tuple[str, ...] | None:
    """Lower-case ASCII phrases one of which every match of `pattern` contains; ``None``: no such.

    Read from the parsed pattern: a run of literal characters is needed where it is not
    optional; a group or a repeat of at least one passes on what its content needs; an
    alternation needs one of its branches' clues (when every branch has some). Of the
    needed parts of a sequence, the one whose shortest clue is longest is kept.
    """
    try:
        from re import _constants as sre, _parser  # the stdlib's own parser (Python >= 3.11)

        return _sequence_clues(list(_parser.parse(pattern, re.IGNORECASE)), sre)
    except Exception:  # any surprise: no clues, the pattern is simply always searched
        return None


def _sequence_clues(items: list[Any], sre: Any) -> tuple[str, ...] | None:
    options: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        text = "".join(run)
        run = []
        if text and text.isascii():  # a non-ASCII literal may match ASCII text ("ſ" ~ "s")
            options.append((text.lower(),))
        found: tuple[str, ...] | None = None
        if op is sre.SUBPATTERN:
            found = _sequence_clues(list(av[3]), sre)
        elif op is sre.BRANCH:
            branches = [_sequence_clues(list(branch), sre) for branch in av[1]]
            if all(branches):
                found = tuple(c for branch in branches for c in branch)  # type: ignore[union-attr]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            found = _sequence_clues(list(av[2]), sre)
        if found:
            options.append(found)
    if not options:
        return None
    return max(options, key=lambda clues: min(len(clue) for clue in clues))


def _status_table(mapping: Mapping[int | range, ErrorType | str]) -> dict[int, ErrorType]:
    table: dict[int, ErrorType] = {}
    for key, kind in mapping.items():  # later keys win, so ranges go first
        for code in key if isinstance(key, range) else (key,):
            table[code] = ErrorType(kind)
    return table


_ALWAYS = ALWAYS


class FactRule(Rule):
    """A rule that judges the `Facts` an exception states about itself (`facts.read_facts`).

    The engine reads the facts of each exception once and hands them to every such rule
    (`judge`); called directly, a rule reads them itself.
    """

    needs: frozenset[str] = introspect.FACT_ATTRIBUTES

    def __call__(self, exc: BaseException) -> Verdict | None:
        return self.judge(read_facts(exc, self.needs))

    def judge(self, facts: Facts) -> Verdict | None:
        raise NotImplementedError


class HttpStatusRule(FactRule):
    """HTTP response status, under any of the names clients use (see `facts`), to a class."""

    needs = introspect.HTTP_STATUS_ATTRIBUTES | introspect.DELAY_ATTRIBUTES | _ALWAYS

    def __init__(self, mapping: Mapping[int | range, ErrorType | str]) -> None:
        self.table = _status_table(mapping)

    def judge(self, facts: Facts) -> Verdict | None:
        status = facts.status
        if status is None or status not in self.table:
            return None
        return Verdict(self.table[status], f"http {status}", facts.retry_after)


class SqlstateRule(FactRule):
    """SQLSTATE codes to classes: an exact 5-character code beats its 2-character class."""

    needs = introspect.SQLSTATE_ATTRIBUTES | _ALWAYS

    def __init__(self, mapping: Mapping[str, ErrorType | str]) -> None:
        self.table = {code.upper(): ErrorType(kind) for code, kind in mapping.items()}

    def judge(self, facts: Facts) -> Verdict | None:
        code = facts.sqlstate
        if code is None:
            return None
        for key in (code, code[:2]):
            if key in self.table:
                return Verdict(self.table[key], f"sqlstate {code}")
        return None


class CloudCodeRule(FactRule):
    """Error codes and reasons a service names (botocore ``Error.Code``, Google reasons,
    ``errors[*].reason``, ``error_code``) to classes; exact names."""

    needs = REASON_ATTRIBUTES | introspect.DELAY_ATTRIBUTES | _ALWAYS

    def __init__(self, mapping: Mapping[str, ErrorType | str]) -> None:
        self.table = {code: ErrorType(kind) for code, kind in mapping.items()}

    def judge(self, facts: Facts) -> Verdict | None:
        for code in facts.reasons:
            if code in self.table:
                return Verdict(self.table[code], f"cloud code {code}", facts.retry_after)
        return None


class ErrnoRule(FactRule):
    """``errno`` values to classes."""

    needs = introspect.ERRNO_ATTRIBUTES | _ALWAYS

    def __init__(self, mapping: Mapping[int, ErrorType | str]) -> None:
        self.table = {int(code): ErrorType(kind) for code, kind in mapping.items()}

    def judge(self, facts: Facts) -> Verdict | None:
        code = facts.errno
        if code is None or code not in self.table:
            return None
        return Verdict(self.table[code], f"errno {code}")
