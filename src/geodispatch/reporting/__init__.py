"""Reporting: KPIs, folium maps and exports; user text as data (map_text, csv_cells)."""
