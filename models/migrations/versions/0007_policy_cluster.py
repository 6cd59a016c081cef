"""policy.cluster: one policy set per cluster (issue 19 A4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:50:00

A policy belongs to the Kubernetes cluster whose flows it came from; single-cluster data, and every policy
generated before, is in the cluster 'default'. Down again drops the column (policies of other clusters would
then read as 'default' ones: they are deleted first, so no two policies of one namespace and name remain).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster', sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False,
                                      server_default='default'))


def downgrade() -> None:
    others = "SELECT id FROM policy WHERE cluster <> 'default'"
    for table in ('policy_review', 'pull_request'):
        op.execute(f"DELETE FROM {table} WHERE policy_id IN ({others})")
    op.execute(f"UPDATE drift_event SET policy_id = NULL WHERE policy_id IN ({others})")
    op.execute("DELETE FROM policy WHERE cluster <> 'default'")
    with op.batch_alter_table('policy', schema=None) as batch_op:
        batch_op.drop_column('cluster')
