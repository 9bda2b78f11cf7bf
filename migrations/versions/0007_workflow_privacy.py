"""officer workflow (assignee, answer time, close reason), staff photos on timeline events,
the personal-data audit log, retention

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 14:20:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('report', sa.Column('assignee_id', sa.Integer(), nullable=True))
    op.create_foreign_key('fk_report_assignee', 'report', 'staff_user', ['assignee_id'], ['id'],
                          ondelete='SET NULL')
    op.add_column('report', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('report', sa.Column('close_reason', sa.String(length=40), nullable=True))
    op.add_column('report', sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_report_resolved_open', 'report', ['resolved_at'],
                    postgresql_where=sa.text("status = 'resolved'"))

    op.add_column('photo', sa.Column('staff_id', sa.Integer(), nullable=True))
    op.create_foreign_key('fk_photo_staff', 'photo', 'staff_user', ['staff_id'], ['id'])
    op.add_column('photo', sa.Column('event_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key('fk_photo_event', 'photo', 'report_event', ['event_id'], ['id'],
                          ondelete='SET NULL')
    op.create_index('ix_photo_event', 'photo', ['event_id'])

    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_log_report', 'audit_log', ['report_id', 'at'])
    op.create_index('ix_audit_log_actor', 'audit_log', ['actor_kind', 'actor_id', 'at'])
    op.create_index('ix_audit_log_citizen', 'audit_log', ['citizen_id', 'at'])
    # Export and erasure look up a citizen's follows and ratings.
    op.create_index('ix_report_follower_citizen', 'report_follower', ['citizen_id'])
    op.create_index('ix_report_rating_citizen', 'report_rating', ['citizen_id'])


def downgrade() -> None:
    op.drop_index('ix_report_rating_citizen', table_name='report_rating')
    op.drop_index('ix_report_follower_citizen', table_name='report_follower')
    op.drop_index('ix_audit_log_citizen', table_name='audit_log')
    op.drop_index('ix_audit_log_actor', table_name='audit_log')
    op.drop_index('ix_audit_log_report', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_photo_event', table_name='photo')
    op.drop_constraint('fk_photo_event', 'photo', type_='foreignkey')
    op.drop_column('photo', 'event_id')
    op.drop_constraint('fk_photo_staff', 'photo', type_='foreignkey')
    op.drop_column('photo', 'staff_id')
    op.drop_index('ix_report_resolved_open', table_name='report')
    op.drop_column('report', 'anonymised_at')
    op.drop_column('report', 'close_reason')
    op.drop_column('report', 'resolved_at')
    op.drop_constraint('fk_report_assignee', 'report', type_='foreignkey')
    op.drop_column('report', 'assignee_id')
