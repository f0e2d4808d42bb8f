"""autopack: the family's branch (contract 003); its tables come in the revisions that follow this one

Revision ID: 0007_autopack
Revises: 0001_platform
Create Date: 2026-12-01
"""

revision = "0007_autopack"
down_revision = "0001_platform"
branch_labels = ("autopack",)
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
