"""HTTP API edge (FastAPI): Open311 GeoReport v2 and crew endpoints."""
