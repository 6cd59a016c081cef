"""notifications: integration config/routing/template columns; notification_delivery (the outbox)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 06:15:00

`integration` (from 0001, unused until now) gains the readable `config`, `routing`, `template`, `updated_at` and
`last_sent_at`, and names unique per tenant; `notification_delivery` is the outbox, one row per message, its
`idempotency_key` unique. Down again drops the outbox and the new columns (integrations keep kind, name, secrets).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NEW_COLUMNS = ('config', 'routing', 'template', 'updated_at', 'last_sent_at')


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _integration_columns() -> None:
    # existing rows get neutral values; the defaults go again so the schema matches the models (which set them)
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('config', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('routing', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.add_column(sa.Column('template', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False,
                                      server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('last_sent_at', models.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('integration', schema=None) as batch_op:
        for name in ('config', 'routing', 'template', 'updated_at'):
            batch_op.alter_column(name, server_default=None)
        batch_op.create_unique_constraint('uq_integration_tenant_name', ['tenant_id', 'name'])


def upgrade() -> None:
    _integration_columns()
    op.create_table('notification_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('integration_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', _string(200), nullable=False),
    sa.Column('kind', _string(16), nullable=False),
    sa.Column('status', _string(16), nullable=False),
    sa.Column('severity', _string(16), nullable=False),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', _string(2000), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=True),
    sa.Column('external_ref', _string(200), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['integration_id'], ['integration.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key', name='uq_notification_delivery_key')
    )
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_notification_delivery_due', ['integration_id', 'status', 'next_attempt_at'],
                              unique=False)
        batch_op.create_index('ix_notification_delivery_incident', ['integration_id', 'incident_id'], unique=False)
        batch_op.create_index('ix_notification_delivery_tenant_created', ['tenant_id', 'integration_id', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_delivery_tenant_created')
        batch_op.drop_index('ix_notification_delivery_incident')
        batch_op.drop_index('ix_notification_delivery_due')
    op.drop_table('notification_delivery')
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.drop_constraint('uq_integration_tenant_name', type_='unique')
        for name in reversed(NEW_COLUMNS):
            batch_op.drop_column(name)
