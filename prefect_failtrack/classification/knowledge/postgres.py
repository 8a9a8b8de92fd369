"""Built-in knowledge: postgres errors (to be filled)."""

from __future__ import annotations
