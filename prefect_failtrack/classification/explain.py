"""Why `classify` answered what it did: every rule asked, the one that decided, the facts read.

`explain(exc)` asks the same rules in the same order as `classify` (the engine's own walk,
traced) and returns an `Explanation`: plain data, rendered by the CLI
(``failtrack classify --explain``) as lines or JSON. Where the decision read only the
message (a message pattern, or a type's message pattern), `text_only` says so: such a
verdict depends on wording, not on anything the library stated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import engine, introspect
from .fact_rules import CodeRule, MetadataRule
from .facts import EMPTY, read_facts
from .types import Verdict
from .rules import (
    CarriedRule,
    CloudCodeRule,
    ErrnoRule,
    FunctionRule,
    HttpStatusRule,
    MessagePatterns,
    MessageRule,
    Rule,
    RuleLike,
    RuleSet,
    SqlstateRule,
    TypeNameRule,
    TypeRule,
)

_NAMES: dict[type, str] = {
    CarriedRule: "class carried by the exception",
    CodeRule: "vendor codes (knowledge packs)",
    CloudCodeRule: "service error codes and reasons",
    SqlstateRule: "SQLSTATE",
    MetadataRule: "generic metadata (status, gRPC, errno, names, the library's verdict)",
    HttpStatusRule: "HTTP status",
    ErrnoRule: "errno",
    MessagePatterns: "message patterns",
    MessageRule: "message pattern",
    TypeNameRule: "what a library's class names its error",
}
_TYPE_SCOPES = {
    "library": "exception types (libraries; builtins for builtin classes)",
    "bases": "the builtin a library's class subclasses",
    "all": "exception types",
}


@dataclass(frozen=True)
class Step:
    """One rule asked about one exception of the chain."""

    layer: str
    exception: str
    rule: str
    verdict: str | None  #: ``None``: asked, and it did not decide


@dataclass(frozen=True)
class Link:
    """One exception of the chain (or a group's member), with what it states about itself."""

    exception: str
    message: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Explanation:
    """The answer of `classify`, and how it was reached."""

    error_type: str
    retryable: bool
    reason: str
    error_class: str
    decided_by: str
    retry_after: float | None
    decided_in: str | None
    text_only: bool
    facts: dict[str, Any]
    chain: list[Link]
    steps: list[Step]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def describe(rule: Rule) -> str:
    """A short human name for a rule."""
    if isinstance(rule, TypeRule):
        return _TYPE_SCOPES.get(rule.scope, "exception types")
    if isinstance(rule, FunctionRule):
        return rule.name
    for cls, name in _NAMES.items():
        if isinstance(rule, cls):
            return name
    return f"your rule {introspect.safe_message(rule, 120)}"  # type: ignore[arg-type]


def explain(exc: BaseException, rules: Iterable[RuleLike] | RuleSet = ()) -> Explanation:
    """Classify `exc` (with `rules` first, as `classify` would) and tell how; never raises."""
    result = engine.classify(exc, rules)
    trace: engine.Trace = []
    try:
        extra = rules if isinstance(rules, RuleSet) else RuleSet(rules)
        engine._decide(exc, extra, 0, [engine.MAX_GROUP_VISITS], {}, trace)
    except Exception:  # the answer stands; only the account of it is cut short
        pass
    steps = [Step(layer, _name(link), describe(rule), _said(verdict))
             for layer, link, rule, verdict in trace]
    decided_at = next(
        (i for i in range(len(trace) - 1, -1, -1) if isinstance(trace[i][3], Verdict)), None
    )
    decided = None if decided_at is None else steps[decided_at]
    deciding_rule = None if decided_at is None else trace[decided_at][2]
    text_only = isinstance(deciding_rule, MessagePatterns | MessageRule) or (
        isinstance(deciding_rule, TypeRule) and " message '" in result.reason
    )
    return Explanation(
        error_type=result.error_type.value,
        retryable=result.retryable,
        reason=result.reason,
        error_class=result.error_class,
        decided_by=result.decided_by,
        retry_after=result.retry_after,
        decided_in=None if decided is None else f"{decided.layer}: {decided.rule}",
        text_only=text_only and not result.facts,
        facts=result.facts.as_dict() if result.facts else {},
        chain=_chain(exc),
        steps=steps,
    )


def _said(verdict: Verdict | str | None) -> str | None:
    if isinstance(verdict, Verdict):
        return f"{verdict.error_type.value} ({verdict.reason})"
    return verdict  # None: asked, no verdict; a string: why it was not asked


def _chain(exc: BaseException) -> list[Link]:
    links: list[Link] = []
    pending = [exc]
    while pending and len(links) < 32:
        current = pending.pop(0)
        for link in introspect.iter_chain(current):
            facts = read_facts(link)
            links.append(Link(
                _name(link), introspect.safe_message(link, 200),
                facts.as_dict() if facts is not EMPTY else {},
            ))
            pending.extend(introspect.group_members(link)[:8])
    return links


_name = engine._name_of
