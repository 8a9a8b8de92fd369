"""`classify`: walk an exception's chain and groups through ordered layers of rules.

Layers, asked in order; within a layer each link of the chain is asked from the
outermost inwards, and the first verdict wins:

1. explicit — a class carried by the exception (markers, decorated types,
   `mark`), then the user's rules (per decorator, then global);
2. groups — an exception group is as bad as its worst member;
3. built-in specific knowledge — a library's own codes, the codes a service names,
   SQLSTATE, library exception types (the most specific type wins, messages of
   known types first), then the generic layer: what the error states about itself
   by shape (`facts`: names, HTTP status, gRPC code, errno, the library's own
   retryable verdict), then the Python builtin the class subclasses (see
   `knowledge` for why in this order); knowledge packs of other packages join the
   built-in ones on the first call (`plugins`);
4. built-in generic types — broad families (``OSError``, SQLAlchemy's
   wrappers) that only decide when nothing in the chain is more specific;
5. message patterns — the last resort;

and UNKNOWN when nothing decides. `classify` never raises.

Built-in rules that read an attribute (a status, a SQLSTATE, an errno, a carried
class) say which (`Rule.needs`); they are not asked about a link that has none
of those attributes (`introspect.present_attributes`), which is most exceptions:
a plain ``ValueError`` meets only the type and message rules. Rules that judge facts
(`rules.FactRule`) share one reading of each exception's facts; the facts of the
exception that decided come back with the answer (`Classification.facts`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from . import introspect, knowledge
from .facts import EMPTY, Facts, read_facts
from .rules import CarriedRule, FactRule, Rule, RuleLike, RuleSet
from .types import Classification, ErrorType, Verdict

logger = logging.getLogger(__name__)

MAX_GROUP_MEMBERS = 64
MAX_GROUP_DEPTH = 8
#: Exceptions looked at in groups, all levels together, per call: nested groups
#: of 64 members 8 deep must not cost 64**8 classifications.
MAX_GROUP_VISITS = 256

_CARRIED = CarriedRule()
_NO_RULES = RuleSet()
LAYER_NAMES = ("specific", "generic types", "messages")
Layer = tuple[tuple[Rule, frozenset[str] | None, bool], ...]
_layers: tuple[tuple[str, Layer], ...] | None = None
_global_rules: list[Rule] = []


def _built_layers() -> tuple[tuple[str, Layer], ...]:
    """The built-in layers (with outside packs, loaded on the first call), each rule with what
    it needs (`Rule.needs`) and whether it judges facts, read once."""
    global _layers
    if _layers is None:
        active = knowledge.layers()
        _layers = tuple(
            (name, tuple((rule, rule.needs, isinstance(rule, FactRule)) for rule in layer.rules))
            for name, layer in zip(
                LAYER_NAMES, (active.specific, active.generic, active.messages), strict=True
            )
        )
    return _layers


def reload_knowledge() -> None:
    """Load the knowledge packs again (those of other packages too) on the next call."""
    global _layers
    _layers = None
    knowledge.reload()
    _built_layers()


def add_rules(*rules: RuleLike) -> None:
    """Add rules, for every classification in this process, ahead of the built-ins."""
    _global_rules.extend(RuleSet(rules).rules)


def clear_rules() -> None:
    """Forget the rules added with `add_rules`."""
    _global_rules.clear()


def classify(exc: BaseException, rules: Iterable[RuleLike] | RuleSet = ()) -> Classification:
    """Classify an exception; `rules` run first, then global rules, then the built-ins.

    Never raises: whatever the exception (or a rule) does, an answer comes back.
    A rule that raises is skipped (and logged); the others still decide.
    """
    error_class = _name_of(exc)
    try:
        if not isinstance(exc, BaseException):
            return Classification(
                ErrorType.UNKNOWN, False, "not an exception", error_class, error_class
            )
        try:
            if isinstance(rules, RuleSet):
                extra = rules
            else:
                extra = _NO_RULES if isinstance(rules, tuple) and not rules else RuleSet(rules)
        except Exception:
            logger.warning("Ignoring classification rules that are not rules: %r", rules)
            extra = RuleSet()
        memo: dict[int, Facts] = {}
        verdict, decider = _decide(exc, extra, depth=0, budget=[MAX_GROUP_VISITS], memo=memo)
        if verdict is None:
            return Classification(
                ErrorType.UNKNOWN, False, "no rule decided", error_class, error_class,
                facts=_some(memo.get(id(exc))) if memo else None,
            )
        decided_by = error_class if decider is exc else _name_of(decider)
        return _answer(verdict, error_class, decided_by, memo.get(id(decider)) if memo else None)
    except Exception as broken:  # a bug here must never fail the caller's pipeline
        return Classification(
            ErrorType.UNKNOWN, False, f"classifier error: {_name_of(broken)}",
            error_class, error_class,
        )


_ANSWERS: dict[tuple[Verdict, str, str], Classification] = {}


def _answer(
    verdict: Verdict, error_class: str, decided_by: str, facts: Facts | None = None
) -> Classification:
    """The classification for a verdict; immutable, so the same answers are made once
    (building a frozen dataclass costs as much as the rest of a type-decided call)."""
    facts = _some(facts)
    key = (verdict, error_class, decided_by)
    answer = _ANSWERS.get(key) if facts is None else None
    if answer is None:
        kind = verdict.error_type
        answer = Classification(
            kind, kind.retryable, verdict.reason, error_class, decided_by, verdict.retry_after,
            facts,
        )
        if verdict.retry_after is None and facts is None and len(_ANSWERS) < 4096:
            _ANSWERS[key] = answer
    return answer


def _some(facts: Facts | None) -> Facts | None:
    """`facts`, or ``None`` for none at all (`read_facts` answers the one `EMPTY` then)."""
    return None if facts is None or facts is EMPTY else facts


def _facts_of(exc: BaseException, memo: dict[int, Facts]) -> Facts:
    """The facts of one exception of this call: read once (`read_facts`), then remembered."""
    found = memo.get(id(exc))
    if found is None:
        found = memo[id(exc)] = read_facts(exc)
    return found


def _name_of(exc: object) -> str:
    try:
        return introspect.qualified_name(type(exc))
    except Exception:
        return "?"


Links = list[tuple[BaseException, frozenset[str] | None]]
"""A chain: each exception with the attributes it has (``None``: could be any)."""


def _requested_delay(links: Links) -> float | None:
    for link, has in links:
        if has is not None and has.isdisjoint(introspect.DELAY_ATTRIBUTES):
            continue
        delay = introspect.requested_delay(link)
        if delay is not None:
            return delay
    return None


def _ask(rule: Rule, exc: BaseException) -> Verdict | None:
    """One rule's verdict on one exception; a rule that raises or answers nonsense abstains."""
    try:
        verdict = rule(exc)
        if verdict is None:
            return None
        if (type(verdict) is Verdict and type(verdict.error_type) is ErrorType
                and verdict.retry_after is None and type(verdict.reason) is str):
            return verdict  # the built-in rules' answers: nothing to check
        kind = ErrorType(verdict.error_type)  # a user's Verdict may carry a plain string
        delay = introspect.as_delay(verdict.retry_after)
        if (kind is not verdict.error_type or delay != verdict.retry_after
                or not isinstance(verdict.reason, str)):
            verdict = Verdict(kind, str(verdict.reason), delay)
        return verdict
    except Exception:
        logger.warning("Classification rule %r failed; skipping it", rule, exc_info=True)
        return None


def _judge(rule: FactRule, facts: Facts) -> Verdict | None:
    """A built-in fact rule's verdict; one that raises abstains (and is logged)."""
    if facts is EMPTY:
        return None
    try:
        return rule.judge(facts)
    except Exception:
        logger.warning("Classification rule %r failed; skipping it", rule, exc_info=True)
        return None


Trace = list[tuple[str, BaseException, Rule, "Verdict | str | None"]]
"""What `_decide` asked, when traced (`explain`): layer, link, rule, verdict (or `NOT_ASKED`)."""
NOT_ASKED = "not asked: the exception has none of the attributes it reads"


def _decide(
    exc: BaseException, extra: RuleSet, depth: int, budget: list[int],
    memo: dict[int, Facts] | None = None, trace: Trace | None = None,
) -> tuple[Verdict | None, BaseException]:
    links = introspect.chain_links(exc)
    carried = _CARRIED.needs
    others = (*extra.rules, *_global_rules)
    if memo is None:
        memo = {}
    for link, has in links:
        if has is None or not carried.isdisjoint(has):
            verdict = _ask(_CARRIED, link)
            if trace is not None:
                trace.append(("explicit", link, _CARRIED, verdict))
            if verdict is not None:
                return _with_delay(verdict, links), link
        for rule in others:  # always asked: they promise nothing
            verdict = _ask(rule, link)
            if trace is not None:
                trace.append(("explicit", link, rule, verdict))
            if verdict is not None:
                return _with_delay(verdict, links), link
    if depth < MAX_GROUP_DEPTH:
        for link, _ in links:
            members = introspect.group_members(link)
            if members:
                verdict, decider = _worst(members, extra, depth + 1, link, budget, memo, trace)
                return (verdict and _with_delay(verdict, links)), decider
    for name, layer in _layers or _built_layers():
        for link, has in links:
            for rule, needs, judges in layer:
                if needs is not None and has is not None and needs.isdisjoint(has):
                    if trace is not None:
                        trace.append((name, link, rule, NOT_ASKED))
                    continue  # it cannot decide without one of these attributes
                if judges:
                    verdict = _judge(rule, _facts_of(link, memo))  # type: ignore[arg-type]
                else:
                    verdict = _ask(rule, link)
                if trace is not None:
                    trace.append((name, link, rule, verdict))
                if verdict is not None:
                    return _with_delay(verdict, links), link
    return None, exc


def _with_delay(verdict: Verdict, links: Links) -> Verdict:
    """The verdict with the delay its chain asks for, when the deciding rule did not say."""
    if verdict.retry_after is not None:
        return verdict
    delay = _requested_delay(links)
    return verdict if delay is None else Verdict(verdict.error_type, verdict.reason, delay)


def _worst(
    members: tuple[BaseException, ...], extra: RuleSet, depth: int, group: BaseException,
    budget: list[int], memo: dict[int, Facts], trace: Trace | None,
) -> tuple[Verdict | None, BaseException]:
    worst: tuple[Verdict | None, BaseException] = (None, group)
    for member in members[:MAX_GROUP_MEMBERS]:
        if budget[0] <= 0:
            break
        budget[0] -= 1
        verdict, decider = _decide(member, extra, depth, budget, memo, trace)
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
