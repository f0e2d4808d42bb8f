"""sim: pending webhooks (persisted until delivered, so the next process sends what a stopped one could not)

Revision ID: 0020_sim_webhooks
Revises: 0005_sim
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_sim_webhooks"
down_revision = "0005_sim"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sim_webhooks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret_sealed", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sim_webhooks_status", "sim_webhooks", ["status"])
    op.create_index("ix_sim_webhooks_run", "sim_webhooks", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sim_webhooks_run", table_name="sim_webhooks")
    op.drop_index("ix_sim_webhooks_status", table_name="sim_webhooks")
    op.drop_table("sim_webhooks")
