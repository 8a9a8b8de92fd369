"""Fault and load drills: `python tests/drills/run.py [--quick]` (see run.py)."""
