"""Where runs spend their time: the states with the most time spent in them.

``duration_in_state_ms`` on a transition is the time spent in the state it leaves
(``from_state``), so time is summed per run name and ``from_state`` over the
transitions of the window (from the window's `profile`), largest total first.
"""

from __future__ import annotations

from collections import defaultdict

from .models import SlowState
from .profile import Group


def slowest_states(groups: list[Group], *, top: int) -> list[SlowState]:
    """The `top` (name, state) pairs by total time spent in the window."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # n, total, max
    for g in groups:
        if g.from_state is None or not g.timed:
            continue
        total = totals[g.name, g.from_state]
        total[0] += g.timed
        total[1] += g.total_ms
        total[2] = max(total[2], g.max_ms or 0)
    ranked = sorted(totals.items(), key=lambda item: (-item[1][1], item[0]))[:top]
    return [
        SlowState(name=name, state=state, count=n, avg_ms=round(ms / n, 3), max_ms=most)
        for (name, state), (n, ms, most) in ranked
    ]
