"""platform jobs: owner, heartbeat, attempts and cancel request (crash-safe, cross-process jobs)

Revision ID: 0013_jobs_lease
Revises: 0001_platform
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_jobs_lease"
down_revision = "0001_platform"
branch_labels = ("jobs_lease",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_platform_jobs_owner", "platform_jobs", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_platform_jobs_owner", "platform_jobs")
    with op.batch_alter_table("platform_jobs") as batch:
        batch.drop_column("cancel_requested_at")
        batch.drop_column("attempts")
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
