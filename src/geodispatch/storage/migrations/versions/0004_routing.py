"""Schema additions for routing (issue 5): booked appointment windows per job.

Crews, plans, stops and unassigned jobs are in 0001; routing adds only the appointments
a dispatcher books (a hard window for the start of work).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_appointments_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_appointments")),
    )


def downgrade() -> None:
    op.drop_table("appointments")
