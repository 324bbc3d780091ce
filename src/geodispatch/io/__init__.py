"""File and network edge: reading tables and boundaries, online geocoders, exports."""
