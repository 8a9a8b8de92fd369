"""``python -m tests.unit.corpus``: accuracy of `classify` on the corpus, per family."""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict

warnings.filterwarnings("ignore")

from prefect_failtrack import ErrorType, classify  # noqa: E402
from tests.unit.corpus import all_cases  # noqa: E402


def main() -> int:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # right, unknown, wrong, n
    misses = []
    stated = [0, 0]  # cases whose library states what its error is; of them, left UNKNOWN
    for case in all_cases():
        try:
            exc = case.make()
            got = classify(exc).error_type
        except Exception as error:  # a case that cannot be made is a broken case, not a miss
            print(f"cannot make {case.label}: {error!r}", file=sys.stderr)
            continue
        row = tally[case.family]
        row[3] += 1
        if case.states:
            stated[0] += 1
            stated[1] += got is ErrorType.UNKNOWN and case.expected is not ErrorType.UNKNOWN
        if got is case.expected:
            row[0] += 1
        elif got is ErrorType.UNKNOWN:
            row[1] += 1
            misses.append((case, got))
        else:
            row[2] += 1
            misses.append((case, got))
    total = [sum(r[i] for r in tally.values()) for i in range(4)]
    named = [sum(r[i] for f, r in tally.items() if not f.startswith("other:")) for i in range(4)]
    other = [sum(r[i] for f, r in tally.items() if f.startswith("other:")) for i in range(4)]
    print(f"{'family':28} {'n':>4} {'right':>6} {'unknown':>8} {'wrong':>6}")
    for family in sorted(tally):
        r = tally[family]
        print(f"{family:28} {r[3]:4} {r[0]:6} {r[1]:8} {r[2]:6}")
    for name, r in (("named by the issue", named), ("not named", other), ("all", total)):
        print(f"{name:28} {r[3]:4} {r[0]:6} {r[1]:8} {r[2]:6}   "
              f"right {100 * r[0] / r[3]:.1f}%  unknown {100 * r[1] / r[3]:.1f}%")
    print(f"UNKNOWN where the library states what its error is: {stated[1]} of {stated[0]} "
          f"({100 * stated[1] / stated[0]:.1f}%)")
    for case, got in misses:
        print(f"MISS {case.label}: expected {case.expected.value}, got {got.value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
