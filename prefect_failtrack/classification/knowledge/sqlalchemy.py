"""Built-in knowledge: sqlalchemy errors (to be filled)."""

from __future__ import annotations
