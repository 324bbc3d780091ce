"""Analysis over requests: duplicate merging, hotspots, SLA."""
