"""api tokens act for a user or a service

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:10:00

Existing tokens: one whose `created_by` is the email of a user of its own tenant acts for that user (the
browser recorded the admin who made it); `sg token create` tokens (`cli`) become the service `cli`, any
other (no creator, or a creator who is not a user of the tenant) the service `legacy`. Services are capped
at analyst when used, so re-issue approver and admin tokens with `sg token create --user EMAIL`.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

CHECK = "ck_api_token_one_identity"


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_api_token_user_id_user', 'user', ['user_id'], ['id'])
    op.execute(
        'UPDATE api_token SET user_id = (SELECT u.id FROM "user" u '
        'WHERE u.email = lower(api_token.created_by) AND u.tenant_id = api_token.tenant_id)'
    )
    op.execute("UPDATE api_token SET service = CASE WHEN created_by = 'cli' THEN 'cli' ELSE 'legacy' END "
               "WHERE user_id IS NULL")
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_check_constraint(CHECK, "(user_id IS NULL) <> (service = '')")


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint(CHECK, type_='check')
        batch_op.drop_constraint('fk_api_token_user_id_user', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
        batch_op.drop_column('service')
        batch_op.drop_column('user_id')
