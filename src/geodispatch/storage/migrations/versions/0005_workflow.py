"""Schema additions for workflow and API (issue 6).

Reserved revision slot: the work on this issue adds its tables and columns here, so
parallel work never forks the migration chain.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
