"""notification_delivery.payload: a scheduled report digest's message (it has no incident to read when sent)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:05:00

A JSON column, nullable: incident notices leave it empty and read their incident at send time; a `report` delivery
(`jobs.tasks.report_digest`) carries its title, summary lines, link and period here. Down again drops it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.drop_column('payload')
