"""Pure types shared by every layer: records, statuses, errors. No I/O here."""
