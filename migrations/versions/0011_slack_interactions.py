"""service milestones (the first admin, once), handled Slack interactions

Revision ID: slack_interactions_1
Revises: credential_cutoff_1
Create Date: 2026-12-07 04:20:00

"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "slack_interactions_1"
down_revision = "credential_cutoff_1"
branch_labels = None
depends_on = None

# Some account has been admin already: INITIAL_ADMIN_EMAIL must make nobody admin again.
_ADMIN_EVER = sa.text(
    "SELECT 1 FROM user_account WHERE role = 'admin' "
    "UNION SELECT 1 FROM account_event WHERE actor = 'configuration:INITIAL_ADMIN_EMAIL' "
    "OR (action = 'role_changed' AND detail LIKE '%admin')"
)


def upgrade():
    milestone = op.create_table(
        "service_milestone",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_milestone")),
    )
    op.create_table(
        "slack_interaction",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_slack_interaction")),
    )
    with op.batch_alter_table("slack_interaction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_slack_interaction_expires_at"), ["expires_at"], unique=False
        )
    if op.get_bind().execute(_ADMIN_EVER).first() is not None:
        row = {
            "name": "first_admin",
            "reached_at": datetime.now(UTC),
            "detail": "an admin account existed before this record",
        }
        op.bulk_insert(milestone, [row])


def downgrade():
    with op.batch_alter_table("slack_interaction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slack_interaction_expires_at"))
    op.drop_table("slack_interaction")
    op.drop_table("service_milestone")
