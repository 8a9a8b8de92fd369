"""Built-in knowledge: validation errors (to be filled)."""

from __future__ import annotations
