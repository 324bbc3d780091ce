"""Hotspots compared with all types: the exposure and the hotspot-level test (issue 21).

A hotspot of one type is now found against the reports of every type in the same place:
``n_all`` holds those reports (incidents of resident types), ``share_ratio`` the type's
share of them over its city-wide share, ``cluster_p`` the p of the place's own count
against its expectation. Nullable: rows of earlier runs (and the all-types view) have none.

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None

_COLUMNS = ("n_all", "share_ratio", "cluster_p")


def upgrade() -> None:
    with op.batch_alter_table("hotspots") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hotspots") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
