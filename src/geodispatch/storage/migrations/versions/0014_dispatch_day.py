"""A dispatch day that follows the clock (issue 20).

``app_state`` keeps installation-wide facts (the day the demo pins its clock to);
``service_types.max_age_days`` is a type's age limit for routing (older jobs go to backlog
review); ``jobs.confirmed_at`` records a dispatcher re-confirming an old job;
``stops.urgent`` marks the dispatcher's urgent job on a route.

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from geodispatch.storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_state",
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_state")),
    )
    with op.batch_alter_table("service_types") as batch:
        batch.add_column(sa.Column("max_age_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("confirmed_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("stops") as batch:
        batch.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("stops") as batch:
        batch.drop_column("urgent")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("confirmed_at")
    with op.batch_alter_table("service_types") as batch:
        batch.drop_column("max_age_days")
    op.drop_table("app_state")
