"""Rules that judge `Facts`: a vendor's own codes, and the generic metadata layer.

`CodeRule` judges the code a knowledge pack said where to read (``CODE_SOURCES``)
against that pack's ``CODES`` table: MySQL 2013, Kafka -195, ``ORA-12541``...

`MetadataRule` is the generic layer: what any library states about its error,
read by shape. It combines, for one exception:

1. the detail of the failure: an error name the library gives (``RATE_LIMITED``,
   ``ResourceExhausted``: `knowledge.generic.NAMES`, compared without case or
   punctuation), else the HTTP status (409 split by what the conflict is about),
   else the gRPC status code, else ``errno``;
2. the library's own verdict (``retryable``, ``retriable()``, ``is_transient``,
   ``isrecoverable``..., error labels such as ``RetryableWriteError``, a ``timeout``
   flag).

The verdict wins where the two disagree on retrying (a ``retryable=True`` 400 is
TRANSIENT; a ``retryable=False`` 503 is PERMANENT); where they agree, the detail
gives the class (a retryable 504 is TIMEOUT, a non-retryable 422 VALIDATION).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import introspect
from .facts import ALWAYS, Facts
from .rules import FactRule, _status_table
from .types import ErrorType, Verdict

T, P, TO = ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT
_RETRYABLE = (T, TO)
_NOT_ALNUM = re.compile(r"[^A-Z0-9]")

CodeTable = Mapping[int | str | range, ErrorType | str]


def normalized_name(name: str) -> str:
    """``rateLimitExceeded``, ``RATE_LIMIT_EXCEEDED``, ``rate-limit-exceeded`` -> one key."""
    return _NOT_ALNUM.sub("", name.upper())


def _code_table(mapping: CodeTable) -> dict[int | str, ErrorType]:
    table: dict[int | str, ErrorType] = {}
    for key, kind in mapping.items():  # later keys win, so ranges go first
        if isinstance(key, range):
            for code in key:
                table[code] = ErrorType(kind)
        else:
            table[key.upper() if isinstance(key, str) else int(key)] = ErrorType(kind)
    return table


class CodeRule(FactRule):
    """A vendor's own error codes, per code space: ``{"mysql": {2013: "TRANSIENT"}}``."""

    needs = ALWAYS | introspect.DELAY_ATTRIBUTES

    def __init__(self, codes: Mapping[str, CodeTable]) -> None:
        self.codes = {space: _code_table(table) for space, table in codes.items()}

    def judge(self, facts: Facts) -> Verdict | None:
        if facts.space is None or facts.code is None:
            return None
        table = self.codes.get(facts.space)
        if not table:
            return None
        kind = table.get(facts.code)
        if kind is None:
            return None
        return Verdict(kind, f"{facts.space} code {facts.code}", facts.retry_after)


class MetadataRule(FactRule):
    """The generic layer (see the module docstring): detail and verdict, read by shape."""

    def __init__(
        self,
        status: Mapping[int | range, ErrorType | str],
        grpc: Mapping[str, ErrorType | str],
        names: Mapping[str, ErrorType | str],
        errnos: Mapping[int, ErrorType | str],
        labels: Mapping[str, ErrorType | str],
        conflict: Mapping[str, ErrorType | str],
    ) -> None:
        self.status = _status_table(status)
        self.grpc = {k.upper(): ErrorType(v) for k, v in grpc.items()}
        self.names = {normalized_name(k): ErrorType(v) for k, v in names.items()}
        self.errnos = {int(k): ErrorType(v) for k, v in errnos.items()}
        self.labels = {k: ErrorType(v) for k, v in labels.items()}
        self.conflict = {k: ErrorType(v) for k, v in conflict.items()}

    def detail(self, facts: Facts) -> tuple[ErrorType, str] | None:
        """The class the failure's own details give (names, status, gRPC, errno), if any."""
        for reason in facts.reasons:
            kind = self.names.get(normalized_name(reason))
            if kind is not None:
                return kind, f"name {reason}"
        status = facts.status
        if status is not None:
            if status == 409 and facts.conflict in self.conflict:
                return self.conflict[facts.conflict], f"http 409 ({facts.conflict})"
            if status in self.status:
                return self.status[status], f"http {status}"
        if facts.grpc is not None and facts.grpc in self.grpc:
            return self.grpc[facts.grpc], f"grpc {facts.grpc}"
        if facts.errno is not None and facts.errno in self.errnos:
            return self.errnos[facts.errno], f"errno {facts.errno}"
        return None

    def verdict(self, facts: Facts) -> tuple[bool, str] | None:
        """The library's own word on retrying: a flag, or a label that says so."""
        if facts.retryable is not None:
            return facts.retryable, f"{facts.verdict_from or 'retryable'}={facts.retryable}"
        for label in facts.labels:
            kind = self.labels.get(label)
            if kind is not None:
                return kind.retryable, f"label {label}"
        return None

    def judge(self, facts: Facts) -> Verdict | None:
        detail = self.detail(facts)
        said = self.verdict(facts)
        if facts.timeout and (said is None or said[0]):
            if detail is None or detail[0] not in _RETRYABLE:
                return Verdict(TO, "timeout=True", facts.retry_after)
        if said is None:
            return None if detail is None else Verdict(detail[0], detail[1], facts.retry_after)
        retry, why = said
        if detail is not None and (detail[0] in _RETRYABLE) == retry:
            return Verdict(detail[0], f"{why}, {detail[1]}", facts.retry_after)
        if retry:
            return Verdict(TO if facts.timeout else T, why, facts.retry_after)
        return Verdict(P, why, facts.retry_after)
