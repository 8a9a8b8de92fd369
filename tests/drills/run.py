"""Run the fault and load drills: ``python tests/drills/run.py [--quick] [--only NAME] [--list]``.

Every ``drill_<name>.py`` beside this file is a drill: a module with
``run(quick: bool) -> dict``, and ``NEEDS_PREFECT = True`` when it runs flows.
Those run inside one Prefect test server (``prefect_test_harness``), started
once, at the first drill that needs it. Each drill's dict becomes one JSON line
on stdout, with ``seconds`` added; nothing else is written to stdout (logs,
Prefect's output and stray prints go to stderr).

A line breaks its drill's promise when it has an ``error`` (the drill crashed),
when one of ``lost``, ``missing_after_reconcile``, ``duplicates``, ``raised``,
``leaked``, ``outcome_changed`` (or a field the drill lists in its
``MUST_BE_ZERO``) is not 0, or when ``rows`` differs from ``expected``. The exit
status is 1 if any line broke its promise, else 0.

``--quick`` is for CI (all drills in under three minutes); the full run and its
figures are in ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PREFIX = "drill_"
ZERO_FIELDS = (
    "lost", "missing_after_reconcile", "duplicates", "raised", "leaked", "outcome_changed",
)  # fmt: skip


def discover() -> list[str]:
    """Names of the drills beside this file (``drill_<name>.py`` -> ``<name>``), sorted."""
    return sorted(p.stem[len(PREFIX) :] for p in HERE.glob(f"{PREFIX}*.py"))


def broken(line: dict[str, Any], must_be_zero: tuple[str, ...] = ()) -> list[str]:
    """Why a drill's line breaks its promise (empty: it keeps it)."""
    reasons = []
    if "error" in line:
        reasons.append(f"crashed: {line['error']}")
    for field in (*ZERO_FIELDS, *must_be_zero):
        if line.get(field, 0) != 0:
            reasons.append(f"{field}={line[field]}")
    if "rows" in line and "expected" in line and line["rows"] != line["expected"]:
        reasons.append(f"rows={line['rows']} but expected={line['expected']}")
    return reasons


def _prepare_environment() -> None:
    """Before Prefect is imported: no telemetry, failtrack's home in a scratch folder."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault(
        "PREFECT_INTEGRATIONS_FAILTRACK_HOME", tempfile.mkdtemp(prefix="failtrack-drills-")
    )
    os.environ.pop("PREFECT_INTEGRATIONS_FAILTRACK_DATABASE_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only drill_NAME.py (repeatable)"
    )
    parser.add_argument("--list", action="store_true", help="list the drills and exit")
    args = parser.parse_args(argv)

    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"no such drill: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [n for n in names if n in args.only]

    # Keep the real stdout for the JSON lines; everything else (prints, rich output, the
    # Prefect server's subprocess, child processes, C libraries) writes to file
    # descriptor 1, which from here on is stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _prepare_environment()

    failures = 0
    started = time.monotonic()
    with ExitStack() as stack:
        harness_started = False
        for name in names:
            print(f"[drill] {name} ...", file=sys.stderr, flush=True)
            t0 = time.monotonic()
            must_be_zero: tuple[str, ...] = ()
            try:
                module = importlib.import_module(f"tests.drills.{PREFIX}{name}")
                must_be_zero = tuple(getattr(module, "MUST_BE_ZERO", ()))
                if getattr(module, "NEEDS_PREFECT", False) and not harness_started:
                    stack.enter_context(_prefect_server())
                    harness_started = True
                    t0 = time.monotonic()  # the server's start is not the drill's time
                line = {"drill": name, **module.run(args.quick)}
            except BaseException as exc:  # noqa: BLE001  (a crashed drill is a broken drill)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                traceback.print_exc(file=sys.stderr)
                line = {"drill": name, "error": f"{type(exc).__name__}: {exc}"[:2000]}
            line["seconds"] = round(time.monotonic() - t0, 1)
            reasons = broken(line, must_be_zero)
            failures += bool(reasons)
            out.write(json.dumps(line, default=str) + "\n")
            out.flush()
            verdict = "BROKE ITS PROMISE: " + "; ".join(reasons) if reasons else "kept its promise"
            print(f"[drill] {name}: {verdict} ({line['seconds']} s)", file=sys.stderr, flush=True)
    print(
        f"[drills] {len(names)} drill(s), {failures} broken, "
        f"{time.monotonic() - started:.0f} s in all",
        file=sys.stderr,
        flush=True,
    )
    return 1 if failures else 0


@contextmanager
def _prefect_server() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    print("[drills] starting a Prefect test server ...", file=sys.stderr, flush=True)
    t0 = time.monotonic()
    with prefect_test_harness(server_startup_timeout=90):
        print(f"[drills] Prefect test server up in {time.monotonic() - t0:.0f} s",
              file=sys.stderr, flush=True)
        yield


if __name__ == "__main__":
    sys.exit(main())
