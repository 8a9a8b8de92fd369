"""Reports: pure queries over the audit store, returned as pydantic models, rendered elsewhere."""
