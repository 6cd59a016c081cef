"""incidents: incident, incident_event, incident_feedback; drift_event.origin

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:20:00

Detection's findings are stored as drift events of origin 'detect' (docs/detection.md, "Tables"). Existing
events are drift's (`origin` defaults to 'drift'). An event's signature is unique per snapshot and origin, so the
two jobs never collide on one pattern of one snapshot.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

UNIQUE = 'uq_drift_snapshot_signature'


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, models.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('drift_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', _string(8), nullable=False, server_default='drift'))
        batch_op.drop_constraint(UNIQUE, type_='unique')
        batch_op.create_unique_constraint(UNIQUE, ['tenant_id', 'snapshot_id', 'origin', 'signature'])

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('key', _string(700), nullable=False),
    sa.Column('kind', _string(24), nullable=False),
    sa.Column('direction', _string(16), nullable=False),
    sa.Column('entity', _string(300), nullable=False),
    sa.Column('service', _string(64), nullable=False),
    _time('first_seen'),
    _time('first_reported'),
    _time('last_seen'),
    sa.Column('peak_risk', sa.Integer(), nullable=False),
    sa.Column('severity', _string(16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('rank_note', _string(300), nullable=False),
    sa.Column('status', _string(16), nullable=False),
    sa.Column('status_by', _string(254), nullable=False),
    _time('status_at', nullable=True),
    sa.Column('events', sa.BigInteger(), nullable=False),
    sa.Column('attempts', sa.BigInteger(), nullable=False),
    sa.Column('answered', sa.BigInteger(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    _time('created_at'),
    _time('updated_at'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'key', 'first_seen', name='uq_incident_key_start')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index('ix_incident_tenant_status_score', ['tenant_id', 'status', 'score'], unique=False)
        batch_op.create_index('ix_incident_tenant_last_seen', ['tenant_id', 'last_seen'], unique=False)

    op.create_table('incident_event',
    sa.Column('event_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['drift_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.create_index('ix_incident_event_tenant_incident', ['tenant_id', 'incident_id'], unique=False)

    op.create_table('incident_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('verdict', _string(16), nullable=False),
    sa.Column('note', _string(2000), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', _string(254), nullable=False),
    sa.Column('key', _string(700), nullable=False),
    sa.Column('shape', _string(700), nullable=False),
    _time('created_at'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_feedback', schema=None) as batch_op:
        batch_op.create_index('ix_incident_feedback_tenant_incident', ['tenant_id', 'incident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incident_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_feedback_tenant_incident')
    op.drop_table('incident_feedback')
    with op.batch_alter_table('incident_event', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_event_tenant_incident')
    op.drop_table('incident_event')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_tenant_last_seen')
        batch_op.drop_index('ix_incident_tenant_status_score')
    op.drop_table('incident')
    # detection's events go first: without `origin` their signatures could clash with drift's
    op.execute("DELETE FROM feedback WHERE event_id IN (SELECT id FROM drift_event WHERE origin <> 'drift')")
    op.execute("DELETE FROM drift_event WHERE origin <> 'drift'")
    with op.batch_alter_table('drift_event', schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_='unique')
        batch_op.create_unique_constraint(UNIQUE, ['tenant_id', 'snapshot_id', 'signature'])
        batch_op.drop_column('origin')
