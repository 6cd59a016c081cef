"""incident namespaces: the namespaces an incident's events touched, for namespace routing of notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 08:50:00

`incident.namespaces` is a JSON list of namespace names taken from the incident's events' nodes (Hubble and
Kubernetes sources name them; Zeek and VPC flow logs do not, their incidents keep an empty list). Existing rows get
an empty list; down again drops the column.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('namespaces', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.alter_column('namespaces', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_column('namespaces')
