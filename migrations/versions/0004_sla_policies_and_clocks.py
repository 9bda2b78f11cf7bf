"""sla policies and clocks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 11:59:35.078131
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sla_class', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sla_class', 'version', name='uq_sla_policy_class_version')
    )
    op.create_table('sla_clock',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('TRIAGE', 'ACCEPT', 'RESOLVE', 'UNIT_RESOLVE')", name='sla_clock_kind'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sla_clock_due_check', 'sla_clock', ['next_check_at'], unique=False, postgresql_where=sa.text('stopped_at IS NULL AND next_check_at IS NOT NULL'))
    op.create_index('ix_sla_clock_report', 'sla_clock', ['report_id', 'kind'], unique=False)
    op.add_column('report', sa.Column('sla_class', sa.String(length=20), nullable=True))
    op.add_column('report', sa.Column('sla_policy_id', sa.Integer(), nullable=True))
    op.create_foreign_key('fk_report_sla_policy', 'report', 'sla_policy', ['sla_policy_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint('fk_report_sla_policy', 'report', type_='foreignkey')
    op.drop_column('report', 'sla_policy_id')
    op.drop_column('report', 'sla_class')
    op.drop_index('ix_sla_clock_report', table_name='sla_clock')
    op.drop_index('ix_sla_clock_due_check', table_name='sla_clock', postgresql_where=sa.text('stopped_at IS NULL AND next_check_at IS NOT NULL'))
    op.drop_table('sla_clock')
    op.drop_table('sla_policy')
