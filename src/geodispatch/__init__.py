"""geodispatch: open 311 field operations, from a resident's report to a crew's finished job."""

__version__ = "0.1.0"
