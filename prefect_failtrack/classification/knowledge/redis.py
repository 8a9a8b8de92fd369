"""Built-in knowledge: redis errors (to be filled)."""

from __future__ import annotations
