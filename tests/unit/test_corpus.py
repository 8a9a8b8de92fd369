"""The evaluation corpus (``tests/unit/corpus``): every case gets its expected class, except the
known misses, which are said with why (and fail loudly once they are fixed: strict xfail).
``python -m tests.unit.corpus`` prints the figures per family."""

from __future__ import annotations

import warnings

import pytest

from prefect_failtrack import classify
from tests.unit.corpus import all_cases

warnings.filterwarnings("ignore", category=DeprecationWarning)
CASES = all_cases()


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=c.known_miss))
     if c.known_miss else c for c in CASES],
    ids=[c.label for c in CASES],
)
def test_corpus_case(case):
    exc = case.make()
    assert classify(exc).error_type is case.expected, case.why


def test_the_corpus_is_large_and_wide():
    assert len(CASES) >= 450
    assert len({c.family for c in CASES}) >= 40
    assert sum(c.family.startswith("other:") for c in CASES) >= 60  # libraries not named
