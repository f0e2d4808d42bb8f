"""genai: the family's branch (contract 004); its tables come in the revisions that follow this one

Revision ID: 0008_genai
Revises: 0001_platform
Create Date: 2026-12-01
"""

revision = "0008_genai"
down_revision = "0001_platform"
branch_labels = ("genai",)
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
