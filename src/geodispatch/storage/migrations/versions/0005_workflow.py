"""Schema additions for workflow and API (issue 6).

Field events remember their stop, distance from the job and audit flags; a job closed as a
duplicate points at the job that carries its callers; crews sign in with tokens and are
locked out after repeated wrong PINs. The audit trail refuses UPDATE and DELETE (trigger).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a table rebuild: existing rows and the foreign keys pointing
    # into these tables stay untouched (SQLite runs with its foreign_keys pragma on)
    _add_reference("status_events", "stop_id", "stops")
    op.add_column("status_events", sa.Column("distance_m", sa.Float(), nullable=True))
    op.add_column(
        "status_events",
        sa.Column("flags", sa.String(length=200), server_default="", nullable=False),
    )
    _add_reference("jobs", "merged_into", "jobs")
    _protect_audit_trail()
    op.create_table(
        "crew_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name=op.f("fk_crew_tokens_crew_id_crews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crew_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_crew_tokens_token_hash")),
    )
    with op.batch_alter_table("crew_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crew_tokens_crew_id"), ["crew_id"], unique=False)
    op.create_table(
        "crew_logins",
        sa.Column("crew_id", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name=op.f("fk_crew_logins_crew_id_crews")
        ),
        sa.PrimaryKeyConstraint("crew_id", name=op.f("pk_crew_logins")),
    )


APPEND_ONLY = "status_events is append-only: record a new event instead of changing one"


def _protect_audit_trail() -> None:
    """Refuse UPDATE and DELETE on status_events in the database itself."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER status_events_no_{action.lower()} BEFORE {action} ON "
                f"status_events BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION status_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER status_events_append_only BEFORE UPDATE OR DELETE ON status_events "
            "FOR EACH ROW EXECUTE FUNCTION status_events_append_only()"
        )


def _unprotect_audit_trail() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS status_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS status_events_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS status_events_append_only ON status_events")
        op.execute("DROP FUNCTION IF EXISTS status_events_append_only()")


def _add_reference(table: str, column: str, target: str) -> None:
    """Add a nullable integer column referencing ``target.id``.

    SQLite can add a column with an inline REFERENCES clause but Alembic only offers that
    through a table rebuild, so SQLite gets the one-line ALTER it supports natively.
    """
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target} (id)")
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(name, table, target, [column], ["id"])


def downgrade() -> None:
    _unprotect_audit_trail()
    op.drop_table("crew_logins")
    with op.batch_alter_table("crew_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crew_tokens_crew_id"))
    op.drop_table("crew_tokens")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column, target in (
        ("jobs", "merged_into", "jobs"),
        ("status_events", "stop_id", "stops"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if not sqlite:  # SQLite's inline reference goes with the rebuilt table
                batch_op.drop_constraint(f"fk_{table}_{column}_{target}", type_="foreignkey")
            batch_op.drop_column(column)
    with op.batch_alter_table("status_events", schema=None) as batch_op:
        batch_op.drop_column("flags")
        batch_op.drop_column("distance_m")
