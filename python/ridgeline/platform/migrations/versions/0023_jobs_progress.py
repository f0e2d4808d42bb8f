"""platform jobs: the progress detail of a running job, written with its progress (every process sees it)

Revision ID: 0023_jobs_progress
Revises: 0013_jobs_lease
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_jobs_progress"
down_revision = "0013_jobs_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_jobs") as batch:
        batch.add_column(sa.Column("progress_detail", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("platform_jobs") as batch:
        batch.drop_column("progress_detail")
