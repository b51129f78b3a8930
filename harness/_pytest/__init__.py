"""pytest integration of pytest-agent-chaos (collection, items, reporting, fixture)."""
