"""A pack whose module raises on import (a test fixture)."""

raise RuntimeError("this pack is broken at import")
