"""Schema additions for geocoding (issue 3).

Reserved revision slot: the work on this issue adds its tables and columns here, so
parallel work never forks the migration chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
