"""Closure truth (issue 23): what a source's closure note says, and the case it duplicates.

``requests.closure_class`` holds the class the closure rules read from the note
(``geodispatch.intake.closure_notes.ClosureClass``); ``requests.duplicate_of`` points a
duplicate at the original request its note cites. Both fill on the next import (or
``geodispatch sla closures --apply``), which also corrects the status of stored historical
closures the old patterns counted as completed.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("closure_class", sa.String(20), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_requests_duplicate_of_requests", "requests", ["duplicate_of"], ["id"]
        )
        batch.create_index("ix_requests_duplicate_of", ["duplicate_of"])


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_duplicate_of")
        batch.drop_constraint("fk_requests_duplicate_of_requests", type_="foreignkey")
        batch.drop_column("duplicate_of")
        batch.drop_column("closure_class")
