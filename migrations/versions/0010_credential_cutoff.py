"""credentials that end: the account's cut-off, and when each refresh-token family began

Revision ID: credential_cutoff_1
Revises: web_sessions_1
Create Date: 2026-12-07 04:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "credential_cutoff_1"
down_revision = "web_sessions_1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credentials_valid_after", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("family_created_at", sa.DateTime(timezone=True), nullable=True)
        )
    # A family began with its oldest token (spent tokens are kept, so it is there).
    op.execute(
        "UPDATE refresh_token SET family_created_at = ("
        " SELECT min(earliest.created_at) FROM refresh_token AS earliest"
        " WHERE earliest.family_id = refresh_token.family_id)"
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.alter_column(
            "family_created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade():
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_column("family_created_at")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("credentials_valid_after")
