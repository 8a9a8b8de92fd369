"""Built-in knowledge: http errors (to be filled)."""

from __future__ import annotations
