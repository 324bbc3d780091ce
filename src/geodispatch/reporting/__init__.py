"""Reporting: KPIs as tidy frames and folium maps (user text escaped here)."""
