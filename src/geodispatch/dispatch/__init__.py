"""Dispatch: work orders, travel matrix, route solver, field state machine."""
