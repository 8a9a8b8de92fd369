"""Built-in knowledge: prefect errors (to be filled)."""

from __future__ import annotations
