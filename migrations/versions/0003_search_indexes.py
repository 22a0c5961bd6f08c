"""search indexes: latitude slices, credentials by therapist

Revision ID: 0003_search_indexes
Revises: 0002_geocode_cache
Create Date: 2026-11-23

Reviewed by hand after autogenerate, which cannot see expression indexes on SQLite: the latitude-slice
index is written out here. It replaces the (latitude, longitude) index, which narrowed a search only to
its latitude band; the (therapist_id, status, expires_on) index replaces the therapist_id one and answers
the oncology filter from the index alone. Measured at 1,000,000 therapists (issue 3 note): the candidate
query's p50 went from about 13 ms to 1.5-2 ms.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_search_indexes'
down_revision = '0002_geocode_cache'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oncology_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oncology_credentials_therapist_id'))
        batch_op.create_index(
            'ix_oncology_credentials_therapist_status_expiry', ['therapist_id', 'status', 'expires_on'], unique=False
        )

    with op.batch_alter_table('practice_locations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_locations_lat_lon'))
    op.create_index(
        'ix_practice_locations_lat_slice',
        'practice_locations',
        [sa.text('CAST(latitude * 10 AS INTEGER)'), 'longitude', 'latitude', 'therapist_id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_practice_locations_lat_slice', table_name='practice_locations')
    with op.batch_alter_table('practice_locations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_locations_lat_lon'), ['latitude', 'longitude'], unique=False)

    with op.batch_alter_table('oncology_credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_oncology_credentials_therapist_status_expiry')
        batch_op.create_index(batch_op.f('ix_oncology_credentials_therapist_id'), ['therapist_id'], unique=False)
