"""Schema additions for hotspots (issue 4).

Reserved revision slot: the work on this issue adds its tables and columns here, so
parallel work never forks the migration chain.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
