"""tourism: places (with photos), festivals and events, local food; trigram indexes on the
folded names, a word index on names and text

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 15:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PLACE_KINDS = ("pagoda", "temple", "communal_house", "church", "museum", "historic_site",
               "craft_village", "park_nature", "market", "restaurant", "cafe",
               "hotel_homestay", "shopping", "other")


def _trgm(name: str, table: str, column: str) -> None:
    op.create_index(name, table, [column], postgresql_using='gin',
                    postgresql_ops={column: 'gin_trgm_ops'})


def upgrade() -> None:
    op.create_table('place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('aliases', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('address_vi', sa.String(length=300), nullable=True),
    sa.Column('address_en', sa.String(length=300), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('opening_hours', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('tickets', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('rating', sa.Float(), nullable=True),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('unverified', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('search_names', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint(f"kind IN {PLACE_KINDS}", name='place_kind'),
    sa.CheckConstraint('rating IS NULL OR (rating >= 0 AND rating <= 5)', name='place_rating'),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_index('ix_place_earth', 'place', [sa.text('ll_to_earth(lat, lon)')],
                    postgresql_using='gist')
    op.create_index('ix_place_kind', 'place', ['kind'])
    op.create_index(op.f('ix_place_ward_code'), 'place', ['ward_code'])
    _trgm('ix_place_search_names', 'place', 'search_names')
    # Word search over names and text (description, address, tags, kind words).
    op.create_index('ix_place_search_words', 'place',
                    [sa.text("to_tsvector('simple'::regconfig, search_names || ' ' || search_text)")],
                    postgresql_using='gin')
    # Typos: nearest names by word-similarity distance (KNN), which GIN cannot order by.
    op.create_index('ix_place_search_names_gist', 'place', ['search_names'], postgresql_using='gist',
                    postgresql_ops={'search_names': 'gist_trgm_ops'})

    op.create_table('place_photo',
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('place_id', 'photo_id')
    )

    op.create_table('tourism_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('calendar', sa.String(length=10), nullable=False),
    sa.Column('month', sa.SmallInteger(), nullable=False),
    sa.Column('day', sa.SmallInteger(), nullable=False),
    sa.Column('leap_month', sa.Boolean(), nullable=False),
    sa.Column('starts_before_days', sa.SmallInteger(), nullable=False),
    sa.Column('duration_days', sa.SmallInteger(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=True),
    sa.Column('place_id', sa.Integer(), nullable=True),
    sa.Column('venue_vi', sa.String(length=300), nullable=True),
    sa.Column('venue_en', sa.String(length=300), nullable=True),
    sa.Column('ward_code', sa.String(length=5), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('unverified', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("calendar IN ('solar', 'lunar')", name='tourism_event_calendar'),
    sa.CheckConstraint('month BETWEEN 1 AND 12 AND day BETWEEN 1 AND 31',
                       name='tourism_event_month_day'),
    sa.CheckConstraint('duration_days BETWEEN 1 AND 60', name='tourism_event_duration'),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ward_code'], ['ward.code']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )

    op.create_table('food',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name_vi', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=True),
    sa.Column('aliases', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('where_vi', sa.Text(), nullable=True),
    sa.Column('where_en', sa.Text(), nullable=True),
    sa.Column('season_vi', sa.String(length=200), nullable=True),
    sa.Column('season_en', sa.String(length=200), nullable=True),
    sa.Column('tags', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('unverified', postgresql.ARRAY(sa.String()), nullable=False),
    sa.Column('search_names', sa.Text(), nullable=False),
    sa.Column('sort', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    _trgm('ix_food_search_names', 'food', 'search_names')

    op.create_table('food_place',
    sa.Column('food_id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['food_id'], ['food.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['place_id'], ['place.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('food_id', 'place_id')
    )
    op.create_index(op.f('ix_food_place_place_id'), 'food_place', ['place_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_food_place_place_id'), table_name='food_place')
    op.drop_table('food_place')
    op.drop_index('ix_food_search_names', table_name='food')
    op.drop_table('food')
    op.drop_table('tourism_event')
    op.drop_table('place_photo')
    op.drop_index('ix_place_search_names_gist', table_name='place')
    op.drop_index('ix_place_search_words', table_name='place')
    op.drop_index('ix_place_search_names', table_name='place')
    op.drop_index(op.f('ix_place_ward_code'), table_name='place')
    op.drop_index('ix_place_kind', table_name='place')
    op.drop_index('ix_place_earth', table_name='place')
    op.drop_table('place')
