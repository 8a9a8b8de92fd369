"""Built-in knowledge: aws errors (to be filled)."""

from __future__ import annotations
