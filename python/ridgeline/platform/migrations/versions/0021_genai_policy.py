"""genai: the control plane's version counter (cached active-binding resolution across workers)

Revision ID: 0021_genai_policy
Revises: 0008_genai
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_genai_policy"
down_revision = "0008_genai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "genai_platform_version",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("genai_platform_version")
