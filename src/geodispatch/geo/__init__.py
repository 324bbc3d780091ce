"""Geography: CRS handling, offline geocoding, ward and area assignment."""
