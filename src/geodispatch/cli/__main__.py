"""``python -m geodispatch.cli``: the same as the ``geodispatch`` command."""

from geodispatch.cli import main

main()
