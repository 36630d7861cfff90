"""Sources may list sitemaps and whole sites besides feeds and URLs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as table:
        table.add_column(sa.Column("sitemaps", sa.JSON(), nullable=False, server_default="[]"))
        table.add_column(sa.Column("sites", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("sources") as table:
        table.drop_column("sites")
        table.drop_column("sitemaps")
