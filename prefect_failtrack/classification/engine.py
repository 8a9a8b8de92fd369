"""`classify`: walk an exception's chain and groups through ordered layers of rules.

Layers, asked in order; within a layer each link of the chain is asked from the
outermost inwards, and the first verdict wins:

1. explicit — a class carried by the exception (markers, decorated types,
   `mark`), then the user's rules (per decorator, then global);
2. groups — an exception group is as bad as its worst member;
3. built-in specific knowledge — HTTP status, SQLSTATE, cloud error codes,
   errno, exception types (the most specific type wins);
4. built-in generic types — broad families (``OSError``, SQLAlchemy's
   wrappers) that only decide when nothing in the chain is more specific;
5. message patterns — the last resort;

and UNKNOWN when nothing decides. `classify` never raises.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import introspect
from .knowledge import BUILTIN_GENERIC, BUILTIN_MESSAGES, BUILTIN_SPECIFIC
from .rules import CarriedRule, Rule, RuleLike, RuleSet
from .types import Classification, ErrorType, Verdict

MAX_GROUP_MEMBERS = 64
MAX_GROUP_DEPTH = 8

_CARRIED = CarriedRule()
_global_rules: list[Rule] = []


def add_rules(*rules: RuleLike) -> None:
    """Add rules, for every classification in this process, ahead of the built-ins."""
    _global_rules.extend(RuleSet(rules).rules)


def clear_rules() -> None:
    """Forget the rules added with `add_rules`."""
    _global_rules.clear()


def classify(exc: BaseException, rules: Iterable[RuleLike] | RuleSet = ()) -> Classification:
    """Classify an exception; `rules` run first, then global rules, then the built-ins.

    Never raises: whatever the exception (or a rule) does, an answer comes back.
    """
    try:
        extra = rules if isinstance(rules, RuleSet) else RuleSet(rules)
    except TypeError:
        extra = RuleSet()
    error_class = _name_of(exc)
    try:
        verdict, decider = _decide(exc, extra, depth=0)
    except Exception as broken:  # a user rule that raises, or stranger
        return Classification(
            ErrorType.UNKNOWN, False, f"classifier error: {_name_of(broken)}",
            error_class, error_class,
        )
    if verdict is None:
        return Classification(ErrorType.UNKNOWN, False, "no rule decided", error_class, error_class)
    retry_after = verdict.retry_after
    if retry_after is None:
        retry_after = _requested_delay(exc)
    return Classification(
        verdict.error_type, verdict.error_type.retryable, verdict.reason,
        error_class, _name_of(decider), retry_after,
    )


def _name_of(exc: object) -> str:
    try:
        return introspect.qualified_name(type(exc))
    except Exception:
        return "?"


def _requested_delay(exc: BaseException) -> float | None:
    for link in introspect.iter_chain(exc):
        delay = introspect.requested_delay(link)
        if delay is not None:
            return delay
    return None


def _decide(
    exc: BaseException, extra: RuleSet, depth: int
) -> tuple[Verdict | None, BaseException]:
    chain = list(introspect.iter_chain(exc))
    explicit: list[Rule] = [_CARRIED, *extra.rules, *_global_rules]
    for link in chain:
        for rule in explicit:
            verdict = rule(link)
            if verdict is not None:
                return verdict, link
    if depth < MAX_GROUP_DEPTH:
        for link in chain:
            members = introspect.group_members(link)
            if members:
                return _worst(members, extra, depth + 1, link)
    for layer in (BUILTIN_SPECIFIC, BUILTIN_GENERIC, BUILTIN_MESSAGES):
        for link in chain:
            verdict = layer(link)
            if verdict is not None:
                return verdict, link
    return None, exc


def _worst(
    members: tuple[BaseException, ...], extra: RuleSet, depth: int, group: BaseException
) -> tuple[Verdict | None, BaseException]:
    worst: tuple[Verdict | None, BaseException] = (None, group)
    for member in members[:MAX_GROUP_MEMBERS]:
        verdict, decider = _decide(member, extra, depth)
        if verdict is None:
            verdict = Verdict(ErrorType.UNKNOWN, "no rule decided")
        current = worst[0]
        if current is None or verdict.error_type.severity > current.error_type.severity:
            worst = (verdict, decider)
        elif verdict.error_type is current.error_type and (verdict.retry_after or 0) > (
            current.retry_after or 0
        ):
            worst = (verdict, decider)
    verdict, decider = worst
    if verdict is not None:
        verdict = Verdict(verdict.error_type, f"group: {verdict.reason}", verdict.retry_after)
    return verdict, decider
