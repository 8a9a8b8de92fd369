"""Built-in knowledge: google errors (to be filled)."""

from __future__ import annotations
