"""Schema additions for app (issue 7).

Reserved revision slot: the work on this issue adds its tables and columns here, so
parallel work never forks the migration chain.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
