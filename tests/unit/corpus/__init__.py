"""An evaluation corpus: many real exceptions, from the libraries issue 14 names and from
libraries it does not, each with the class it should get and why (the library's own retry
semantics, the protocol, or the vendor's error reference).

Exceptions are made by the libraries' own classes, as the libraries make them (or raised for
real, where that needs no server: closed ports, in-process engines). ``python -m
tests.unit.corpus`` prints the accuracy per family; ``tests/unit/test_corpus.py`` holds every
case to its expected class.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from prefect_failtrack import ErrorType
from tests.unit.knowledge_helpers import raised  # noqa: F401  (the cases use it)

T, P, TO, V, D, U = (
    ErrorType.TRANSIENT, ErrorType.PERMANENT, ErrorType.TIMEOUT, ErrorType.VALIDATION,
    ErrorType.DEPENDENCY, ErrorType.UNKNOWN,
)


@dataclass(frozen=True)
class Case:
    """One exception of the corpus."""

    family: str  # e.g. "mysql"; families issue 14 does not name start with "other:"
    make: Callable[[], BaseException]
    expected: ErrorType
    why: str
    states: bool = True  # the library states what its error is (type, code, status...)
    known_miss: str | None = None  # why failtrack still gets it wrong (the test expects that)

    @property
    def label(self) -> str:
        return f"{self.family}: {self.why}"


MODULES = (
    "databases", "brokers", "protocols", "clouds", "data", "unnamed", "known", "heldout",
)


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.cases_{name}")
        cases.extend(module.cases())
    return cases
