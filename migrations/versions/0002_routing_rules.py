"""routing rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 11:33:08.597127
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=60), nullable=True),
    sa.Column('group_code', sa.String(length=40), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('category_code IS NULL OR group_code IS NULL', name='rule_category_or_group'),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], ),
    sa.ForeignKeyConstraint(['group_code'], ['category_group.code'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_routing_rule_lookup', 'routing_rule', ['category_code', 'group_code', 'ward_code'], unique=False)
    op.add_column('report', sa.Column('possible_duplicate_of_id', sa.BigInteger(), nullable=True))
    op.add_column('report', sa.Column('routed_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key('fk_report_possible_duplicate', 'report', 'report',
                          ['possible_duplicate_of_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint('fk_report_possible_duplicate', 'report', type_='foreignkey')
    op.drop_column('report', 'routed_at')
    op.drop_column('report', 'possible_duplicate_of_id')
    op.drop_index('ix_routing_rule_lookup', table_name='routing_rule')
    op.drop_table('routing_rule')
