"""An index on ``requests.updated_at`` (issue 7).

Screens key their caches on a data version that includes ``max(requests.updated_at)``
(see ``hotspots_repo.data_version``), read on every page visit, several times on the
manager's pages. Without an index that read (with the request count) scans the table:
19 ms on Boston's 60,675 requests in SQLite. With it, SQLite reads the narrow index
instead (a covering-index scan that gives both figures): 4.4 ms. It still grows with the
number of requests; a change counter bumped by every write would not.
On PostgreSQL a plain CREATE INDEX blocks writes to requests while it builds: seconds at
Boston's size, to plan for (upgrade out of hours) in a city with millions of requests.

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
