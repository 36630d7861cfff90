"""Articles say whether they are paywalled, how long they take to read, and which story they copy.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as table:
        table.add_column(sa.Column("paywalled", sa.Boolean(), nullable=True))
        table.add_column(
            sa.Column("reading_time", sa.Integer(), nullable=False, server_default="0")
        )
        table.add_column(sa.Column("duplicate_of", sa.String(2048), nullable=True))
        table.add_column(sa.Column("story_id", sa.String(64), nullable=True))
        table.create_index("ix_articles_duplicate_of", ["duplicate_of"])
        table.create_index("ix_articles_story_id", ["story_id"])


def downgrade() -> None:
    with op.batch_alter_table("articles") as table:
        table.drop_index("ix_articles_story_id")
        table.drop_index("ix_articles_duplicate_of")
        table.drop_column("story_id")
        table.drop_column("duplicate_of")
        table.drop_column("reading_time")
        table.drop_column("paywalled")
