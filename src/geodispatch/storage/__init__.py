"""Storage edge, the only package importing SQLAlchemy: tables, engine, migrations, repos."""
