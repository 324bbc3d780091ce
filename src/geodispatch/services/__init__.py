"""One function per user action; the CLI, API and app pages call only these."""
