"""Schema additions for geocoding and area assignment (issue 3).

- ``requests.geocode_flag`` ("" / ambiguous / low_confidence) and ``requests.geocode_address``
  (the address a geocoded point belongs to, or the nearest address of a map pin);
- ``requests.areas`` (a JSON object: the area id of every configured layer, such as ward,
  precinct, neighbourhood, council district) and ``requests.area_note`` (what differed when
  a point was snapped to an area or fell outside all). They are columns of the request, not
  rows of their own, so intake writes them with the request itself: a second table cost a
  million-row import millions of extra index insertions;
- ``geocode_cache``: online geocoders' answers, so each distinct address is asked once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("geocode_flag", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("geocode_address", sa.Text(), nullable=True))
        batch.add_column(sa.Column("areas", sa.Text(), nullable=True))
        batch.add_column(sa.Column("area_note", sa.Text(), nullable=True))
    op.create_table(
        "geocode_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("match", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("flag", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("matched", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_geocode_cache")),
        sa.UniqueConstraint("provider", "query", name=op.f("uq_geocode_cache_provider_query")),
    )


def downgrade() -> None:
    op.drop_table("geocode_cache")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("area_note")
        batch.drop_column("areas")
        batch.drop_column("geocode_address")
        batch.drop_column("geocode_flag")
