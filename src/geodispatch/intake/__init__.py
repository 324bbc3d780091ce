"""Intake: rows from city exports, Open311 and mapped CSVs become canonical requests + rejects."""
