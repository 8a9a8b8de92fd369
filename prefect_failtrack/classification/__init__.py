"""Classification: what kind of failure an exception is, and which rule said so."""

from .engine import add_rules, classify, clear_rules, reload_knowledge
from .explain import Explanation, explain
from .fact_rules import CodeRule, MetadataRule
from .facts import CodeSource, Facts, read_facts
from .rules import (
    CloudCodeRule,
    ErrnoRule,
    FactRule,
    FunctionRule,
    HttpStatusRule,
    MessageRule,
    Rule,
    RuleLike,
    RuleSet,
    SqlstateRule,
    TypeRule,
)
from .types import (
    Classification,
    DependencyFailed,
    ErrorType,
    FailtrackMarker,
    InvalidInput,
    PermanentError,
    TimeoutExceeded,
    TransientError,
    Verdict,
    error_type,
    mark,
)

__all__ = [
    "Classification",
    "CloudCodeRule",
    "CodeRule",
    "CodeSource",
    "DependencyFailed",
    "ErrnoRule",
    "ErrorType",
    "Explanation",
    "FactRule",
    "Facts",
    "FailtrackMarker",
    "FunctionRule",
    "HttpStatusRule",
    "InvalidInput",
    "MessageRule",
    "MetadataRule",
    "PermanentError",
    "Rule",
    "RuleLike",
    "RuleSet",
    "SqlstateRule",
    "TimeoutExceeded",
    "TransientError",
    "TypeRule",
    "Verdict",
    "add_rules",
    "classify",
    "clear_rules",
    "error_type",
    "explain",
    "mark",
    "read_facts",
    "reload_knowledge",
]
