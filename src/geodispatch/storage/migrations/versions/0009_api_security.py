"""Open311 API keys per client, stored hashed; the media_url of posted requests (issue 18).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    # plain ADD COLUMN: no rebuild of the table jobs and events point at
    op.add_column("requests", sa.Column("media_url", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_table("api_keys")
    if op.get_bind().dialect.name == "sqlite":  # in place (SQLite 3.35+), no table rebuild
        op.execute("ALTER TABLE requests DROP COLUMN media_url")
        return
    op.drop_column("requests", "media_url")
