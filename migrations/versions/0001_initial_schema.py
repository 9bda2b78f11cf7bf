"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 11:01:56.078942
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


EXTENSIONS = ("cube", "earthdistance", "unaccent", "pg_trgm")
# Tracking-code sequences, one per year (api/reports/codes.py); later years are made on demand.
CODE_YEARS = range(2024, 2046)


def upgrade() -> None:
    # cube + earthdistance give indexed distance queries without PostGIS;
    # unaccent + pg_trgm give diacritic-insensitive, typo-tolerant search.
    for ext in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
    op.create_table('category_group',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_vi', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('icon', sa.String(length=40), nullable=True),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('citizen',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal', sa.String(length=200), nullable=False),
    sa.Column('firebase_uid', sa.String(length=128), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('principal')
    )
    op.create_table('province',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_short', sa.String(length=100), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('ward',
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('province_code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_short', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_folded', sa.String(length=120), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('area_km2', sa.Float(), nullable=True),
    sa.Column('boundary', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.ForeignKeyConstraint(['province_code'], ['province.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_index('ix_ward_earth', 'ward', [sa.literal_column('ll_to_earth(lat, lon)')], unique=False, postgresql_using='gist')
    op.create_index('ix_ward_province', 'ward', ['province_code'], unique=False)
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('short_vi', sa.String(length=120), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('handles', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind IN ('department', 'police', 'ioc', 'utility', 'ward')", name='unit_kind'),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index(op.f('ix_unit_ward_code'), 'unit', ['ward_code'], unique=False)
    op.create_table('category',
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('group_code', sa.String(length=40), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('keywords', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('keywords_folded', sa.Text(), nullable=False),
    sa.Column('sla_class', sa.String(length=20), nullable=False),
    sa.Column('default_level', sa.String(length=20), nullable=False),
    sa.Column('default_unit_code', sa.String(length=40), nullable=True),
    sa.Column('photo_required', sa.Boolean(), nullable=False),
    sa.Column('anonymous_allowed', sa.Boolean(), nullable=False),
    sa.Column('open311_keywords', sa.String(length=300), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("default_level IN ('ward', 'province')", name='category_default_level'),
    sa.CheckConstraint("sla_class IN ('urgent', 'fix_now', 'normal', 'complex')", name='category_sla_class'),
    sa.ForeignKeyConstraint(['default_unit_code'], ['unit.code'], ),
    sa.ForeignKeyConstraint(['group_code'], ['category_group.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('dispatcher', 'admin') OR unit_id IS NOT NULL", name='staff_unit_scoped'),
    sa.CheckConstraint("role IN ('officer', 'unit_head', 'dispatcher', 'admin')", name='staff_role'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_index(op.f('ix_staff_user_unit_id'), 'staff_user', ['unit_id'], unique=False)
    op.create_table('report',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('category_code', sa.String(length=60), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('location_source', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=32), nullable=True),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('duplicate_of_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('app', 'open311', 'chat', 'staff')", name='report_source'),
    sa.CheckConstraint("status IN ('new', 'routed', 'accepted', 'in_progress', 'waiting_citizen', 'resolved', 'closed', 'returned', 'rejected', 'duplicate', 'transferred_out', 'reopened')", name='report_status'),
    sa.CheckConstraint('lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180', name='report_latlon'),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], ),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index('ix_report_category_status_created', 'report', ['category_code', 'status', 'created_at'], unique=False)
    op.create_index('ix_report_citizen', 'report', ['citizen_id'], unique=False)
    op.create_index('ix_report_earth', 'report', [sa.literal_column('ll_to_earth(lat, lon)')], unique=False, postgresql_using='gist')
    op.create_index('ix_report_updated', 'report', ['updated_at', 'id'], unique=False)
    op.create_index('ix_report_ward', 'report', ['ward_code'], unique=False)
    op.create_table('idempotency_key',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('principal', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('principal', 'key', name='uq_idempotency_principal_key')
    )
    op.create_index(op.f('ix_idempotency_key_created_at'), 'idempotency_key', ['created_at'], unique=False)
    op.create_table('photo',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('source_type', sa.String(length=10), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('display_key', sa.String(length=200), nullable=False),
    sa.Column('thumb_key', sa.String(length=200), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('citizen_id', 'sha256', name='uq_photo_owner_content')
    )
    op.create_index('ix_photo_report', 'photo', ['report_id'], unique=False)
    op.create_table('report_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=True),
    sa.Column('actor_kind', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("actor_kind IN ('citizen', 'staff', 'system')", name='event_actor_kind'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_event_report', 'report_event', ['report_id', 'id'], unique=False)
    op.create_table('report_follower',
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'citizen_id')
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('topic', sa.String(length=60), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['report_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_pending', 'outbox', ['next_attempt_at'], unique=False, postgresql_where=sa.text('processed_at IS NULL'))


    for year in CODE_YEARS:
        op.execute(f"CREATE SEQUENCE IF NOT EXISTS report_code_seq_{year} MAXVALUE 999999")


def downgrade() -> None:
    op.execute("DO $$ DECLARE s record; BEGIN FOR s IN SELECT sequencename FROM pg_sequences"
               " WHERE sequencename LIKE 'report\\_code\\_seq\\_%' LOOP"
               " EXECUTE format('DROP SEQUENCE %I', s.sequencename); END LOOP; END $$")
    op.drop_index('ix_outbox_pending', table_name='outbox', postgresql_where=sa.text('processed_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('report_follower')
    op.drop_index('ix_report_event_report', table_name='report_event')
    op.drop_table('report_event')
    op.drop_index('ix_photo_report', table_name='photo')
    op.drop_table('photo')
    op.drop_index(op.f('ix_idempotency_key_created_at'), table_name='idempotency_key')
    op.drop_table('idempotency_key')
    op.drop_index('ix_report_ward', table_name='report')
    op.drop_index('ix_report_updated', table_name='report')
    op.drop_index('ix_report_earth', table_name='report', postgresql_using='gist')
    op.drop_index('ix_report_citizen', table_name='report')
    op.drop_index('ix_report_category_status_created', table_name='report')
    op.drop_table('report')
    op.drop_index(op.f('ix_staff_user_unit_id'), table_name='staff_user')
    op.drop_table('staff_user')
    op.drop_table('category')
    op.drop_index(op.f('ix_unit_ward_code'), table_name='unit')
    op.drop_table('unit')
    op.drop_index('ix_ward_province', table_name='ward')
    op.drop_index('ix_ward_earth', table_name='ward', postgresql_using='gist')
    op.drop_table('ward')
    op.drop_table('province')
    op.drop_table('citizen')
    op.drop_table('category_group')
    for ext in reversed(EXTENSIONS):
        op.execute(f"DROP EXTENSION IF EXISTS {ext}")
