"""upload box size limits (GHGA event schemas 13) and the part checksums of a closed upload

Revision ID: upload_box_limits_1
Revises: slack_interactions_1
Create Date: 2026-12-07 05:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "upload_box_limits_1"
down_revision = "slack_interactions_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: no limit (boxes registered before ghga-event-schemas 13 carried none).
    op.add_column("upload_box", sa.Column("max_size", sa.BigInteger(), nullable=True))
    op.add_column("file_upload", sa.Column("encrypted_parts_md5", sa.JSON(), nullable=True))
    op.add_column("file_upload", sa.Column("encrypted_parts_sha256", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("file_upload", "encrypted_parts_sha256")
    op.drop_column("file_upload", "encrypted_parts_md5")
    op.drop_column("upload_box", "max_size")
