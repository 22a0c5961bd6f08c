"""course fit cache: search by course fit keeps each therapist's soonest whole course per course shape

Revision ID: 0013_course_fit_cache
Revises: 0012_public_holidays
Create Date: 2026-12-07

Written by hand. The cache starts empty (search fills it); `calendar_version` starts at 0 for every
therapist, which no cached row has yet.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_course_fit_cache'
down_revision = '0012_public_holidays'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_version', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'course_fit_cache',
        sa.Column('therapist_id', sa.Integer(), nullable=False),
        sa.Column('session_minutes', sa.Integer(), nullable=False),
        sa.Column('sessions_per_fortnight', sa.Integer(), nullable=False),
        sa.Column('total_sessions', sa.Integer(), nullable=False),
        sa.Column('calendar_version', sa.Integer(), nullable=False),
        sa.Column('patterns', sa.JSON(), nullable=False),
        sa.Column('soonest', sa.BigInteger(), nullable=True),
        sa.Column('morning', sa.BigInteger(), nullable=True),
        sa.Column('afternoon', sa.BigInteger(), nullable=True),
        sa.Column('evening', sa.BigInteger(), nullable=True),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['therapist_id'], ['availability_settings.therapist_id'],
            name=op.f('fk_course_fit_cache_therapist_id_availability_settings'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint(
            'therapist_id', 'session_minutes', 'sessions_per_fortnight', 'total_sessions',
            name=op.f('pk_course_fit_cache'),
        ),
    )
    with op.batch_alter_table('course_fit_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_fit_cache_valid_until'), ['valid_until'], unique=False)


def downgrade():
    with op.batch_alter_table('course_fit_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_fit_cache_valid_until'))
    op.drop_table('course_fit_cache')
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.drop_column('calendar_version')
