"""An index on ``requests.updated_at`` (issue 7).

Screens key their caches on a data version that includes ``max(requests.updated_at)``
(see ``hotspots_repo.data_version``), read on every page visit, several times on the
manager's pages. Without an index that is a scan of every request: 19 ms per read on
Boston's 60,675 requests in SQLite; with it, an index lookup.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_requests_updated_at", "requests", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_requests_updated_at", table_name="requests")
