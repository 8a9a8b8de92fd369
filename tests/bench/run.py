"""Run the benchmarks: ``python tests/bench/run.py [--quick] [--only NAME ...]``.

Every ``bench_<name>.py`` beside this file is a benchmark: a module with
``run(quick: bool) -> dict | list[dict]``. Each module runs in a fresh Python
process (so that one bench's memory, threads and Prefect server never colour
another's figures), and each dict it returns becomes one JSON line on stdout.
Nothing else is written to stdout: logs, Prefect's console output and any
stray print go to stderr.

``--quick`` is for CI: a smoke run (smallest sizes, same code paths, and one Prefect
test server shared by the benches instead of one each); its figures are not the
documented ones.
There are no thresholds: the exit status is 0 unless a bench crashed (then 1).
Goals and figures are in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "bench_"


def discover() -> list[str]:
    """Names of the benches beside this file (``bench_<name>.py`` -> ``<name>``), sorted."""
    return sorted(p.stem[len(PREFIX) :] for p in HERE.glob(f"{PREFIX}*.py"))


def _run_child(name: str, quick: bool) -> int:
    """In the child: run one bench module and write its lines to the real stdout."""
    # Keep the real stdout for the JSON lines; everything else (prints, Prefect's server
    # subprocess, C libraries) writes to file descriptor 1, which now is stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    spec = importlib.util.spec_from_file_location(f"{PREFIX}{name}", HERE / f"{PREFIX}{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(quick)
    for line in result if isinstance(result, list) else [result]:
        out.write(json.dumps(line) + "\n")
    out.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (CI); no thresholds")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only bench_NAME.py (repeatable)"
    )
    parser.add_argument("--child", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _run_child(args.child, args.quick)

    names = discover()
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            parser.error(f"no such bench: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [n for n in names if n in args.only]

    if not args.quick:
        return _run_all(names, quick=False)
    from _common import SHARED_API
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        # In the environment, so that every thread and process of a bench finds it (a
        # settings context does not reach the threads a bench starts its flows in).
        os.environ[SHARED_API] = os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
        return _run_all(names, quick=True)


def _run_all(names: list[str], quick: bool) -> int:
    """Each bench in a child process, one after another; 1 if one crashed, else 0."""
    crashed: list[str] = []
    started = time.monotonic()
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        command = [sys.executable, str(Path(__file__).resolve()), "--child", name]
        child = subprocess.run(
            command + (["--quick"] if quick else []),
            stdout=subprocess.PIPE,
            stderr=None,  # inherited: the child's logs go straight to our stderr
            text=True,
        )
        lines = [line for line in child.stdout.splitlines() if line.strip()]
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                print(f"[bench] {name}: not JSON on stdout: {line!r}", file=sys.stderr)
                child.returncode = child.returncode or 1
                continue
            print(line, flush=True)
        took = time.monotonic() - t0
        if child.returncode != 0:
            crashed.append(name)
            print(f"[bench] {name} CRASHED (exit {child.returncode}) after {took:.1f} s",
                  file=sys.stderr, flush=True)
        else:
            print(f"[bench] {name} done in {took:.1f} s", file=sys.stderr, flush=True)
    print(f"[bench] all done in {time.monotonic() - started:.1f} s"
          + (f"; crashed: {', '.join(crashed)}" if crashed else ""), file=sys.stderr, flush=True)
    return 1 if crashed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
