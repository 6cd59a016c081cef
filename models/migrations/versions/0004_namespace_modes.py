"""namespace modes: namespace_mode; drift_event.policy_id (monitor mode's violations)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 06:20:00

Each namespace (per cluster) is in learn, monitor or enforce; a namespace without a row is in learn. In monitor, the
monitor job stores the flows that the approved policies would deny as drift events of kind 'violation' and origin
'monitor', naming the policy in `policy_id`. Down again drops the monitor's events (and what hangs on them).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FK = 'fk_drift_event_policy_id_policy'


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table('namespace_mode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('cluster', _string(63), nullable=False),
    sa.Column('namespace', _string(63), nullable=False),
    sa.Column('mode', _string(16), nullable=False),
    sa.Column('reason', _string(1000), nullable=False),
    sa.Column('changed_by', _string(254), nullable=False),
    sa.Column('changed_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('monitor_since', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'cluster', 'namespace', name='uq_namespace_mode_key')
    )
    with op.batch_alter_table('namespace_mode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_namespace_mode_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('drift_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_drift_event_policy_id'), ['policy_id'], unique=False)
        batch_op.create_foreign_key(FK, 'policy', ['policy_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    # the monitor's events go first: older code knows neither their kind nor their origin
    monitor = "SELECT id FROM drift_event WHERE origin = 'monitor'"
    op.execute(f"DELETE FROM incident_event WHERE event_id IN ({monitor})")
    op.execute(f"DELETE FROM feedback WHERE event_id IN ({monitor})")
    op.execute("DELETE FROM drift_event WHERE origin = 'monitor'")
    with op.batch_alter_table('drift_event', schema=None) as batch_op:
        batch_op.drop_constraint(FK, type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_drift_event_policy_id'))
        batch_op.drop_column('policy_id')
    with op.batch_alter_table('namespace_mode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_namespace_mode_tenant_id'))
    op.drop_table('namespace_mode')
