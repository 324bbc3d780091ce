"""Schema additions for hotspots (issue 4): hotspot runs, hotspots, requests.hotspot_id index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hotspot_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("requests_analysed", sa.Integer(), nullable=False),
        sa.Column("requests_excluded", sa.Integer(), nullable=False),
        sa.Column("hotspots", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_runs")),
    )
    op.create_table(
        "hotspots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=80), nullable=True),
        sa.Column("service_name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("trend", sa.String(length=16), nullable=False),
        sa.Column("found_in", sa.String(length=12), nullable=False),
        sa.Column("n_reports", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("q_value", sa.Float(), nullable=False),
        sa.Column("n_cells", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("wards", sa.String(length=200), nullable=False),
        sa.Column("primary_ward", sa.String(length=20), nullable=True),
        sa.Column("distinct_addresses", sa.Integer(), nullable=False),
        sa.Column("distinct_sites", sa.Integer(), nullable=False),
        sa.Column("top_address", sa.Text(), nullable=False),
        sa.Column("top_address_reports", sa.Integer(), nullable=False),
        sa.Column("first_report_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_report_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("months_with_reports", sa.Integer(), nullable=False),
        sa.Column("months_active", sa.Integer(), nullable=False),
        sa.Column("monthly_recurrence", sa.Float(), nullable=True),
        sa.Column("open_share", sa.Float(), nullable=True),
        sa.Column("n_recent", sa.Integer(), nullable=False),
        sa.Column("recent_share", sa.Float(), nullable=True),
        sa.Column("expected_share", sa.Float(), nullable=True),
        sa.Column("trend_p", sa.Float(), nullable=True),
        sa.Column("trend_q", sa.Float(), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("first_detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["hotspot_runs.id"], name=op.f("fk_hotspots_run_id_hotspot_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspots")),
    )
    op.create_index(
        "ix_hotspots_active_service", "hotspots", ["active", "service_code"], unique=False
    )
    op.create_index(op.f("ix_hotspots_run_id"), "hotspots", ["run_id"], unique=False)
    op.create_index(op.f("ix_requests_hotspot_id"), "requests", ["hotspot_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_requests_hotspot_id"), table_name="requests")
    op.drop_index(op.f("ix_hotspots_run_id"), table_name="hotspots")
    op.drop_index("ix_hotspots_active_service", table_name="hotspots")
    op.drop_table("hotspots")
    op.drop_table("hotspot_runs")
