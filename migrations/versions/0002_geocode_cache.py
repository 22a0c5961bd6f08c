"""geocode cache: online geocoder answers, asked once per address

Revision ID: 0002_geocode_cache
Revises: 0001_foundation
Create Date: 2026-11-23

Reviewed by hand after autogenerate: `created_at` is a plain timestamptz (the UTCDateTime decorator only
converts values in Python, so the migration needs no application import), and every constraint carries
its naming-convention name. A row without coordinates records that the provider found nothing.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_geocode_cache'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('geocode_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.String(length=400), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('label', sa.String(length=255), nullable=True),
    sa.Column('precision', sa.Enum('point', 'zip', 'city', name='geocode_precision', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(latitude IS NULL AND longitude IS NULL AND label IS NULL AND precision IS NULL) OR (latitude IS NOT NULL AND longitude IS NOT NULL AND label IS NOT NULL AND precision IS NOT NULL)', name=op.f('ck_geocode_cache_whole_answer_or_none')),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90', name=op.f('ck_geocode_cache_latitude_range')),
    sa.CheckConstraint('longitude BETWEEN -180 AND 180', name=op.f('ck_geocode_cache_longitude_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geocode_cache')),
    sa.UniqueConstraint('query', name=op.f('uq_geocode_cache_query'))
    )


def downgrade():
    op.drop_table('geocode_cache')
