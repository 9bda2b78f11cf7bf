"""chat: conversations the bot hands to a person at the IOC

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_handoff',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('transcript', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('report_code', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('close_note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name='chat_handoff_status'),
    sa.CheckConstraint("lang IN ('vi', 'en')", name='chat_handoff_lang'),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by'], ['staff_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_chat_handoff_citizen', 'chat_handoff', ['citizen_id'], unique=False)
    op.create_index('ix_chat_handoff_open', 'chat_handoff', ['created_at'], unique=False,
                    postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ix_chat_handoff_open', table_name='chat_handoff')
    op.drop_index('ix_chat_handoff_citizen', table_name='chat_handoff')
    op.drop_table('chat_handoff')
