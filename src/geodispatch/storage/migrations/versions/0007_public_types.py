"""Service types residents see (issue 7): ``service_types.public``.

The city's own work orders (Boston's "Pothole Repair (Internal)") are not residents'
reports: the public figures and the Open311 API leave them out. Existing catalogues get
the default rule of ``geodispatch.intake.catalogue.is_public`` (a name ending in
"(Internal)", any case, is not public), written out here so this revision never changes
when the code does. A new revision rather than the reserved slot 0006: databases already
stamped 0006 would otherwise never get the column.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TYPES = sa.table("service_types", sa.column("name", sa.String), sa.column("public", sa.Boolean))


def upgrade() -> None:
    # plain ADD COLUMN with a default: no table rebuild, the requests and jobs pointing at
    # service_types stay untouched
    op.add_column(
        "service_types",
        sa.Column("public", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.execute(
        _TYPES.update()
        .where(sa.func.lower(sa.func.trim(_TYPES.c.name)).like("%(internal)"))
        .values(public=sa.false())
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place; a batch rebuild would drop and
        # recreate a table that requests and jobs reference
        op.execute("ALTER TABLE service_types DROP COLUMN public")
        return
    op.drop_column("service_types", "public")
