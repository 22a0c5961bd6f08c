"""availability: settings, weekly and extra hours, time off, appointments

Revision ID: 0004_availability
Revises: 0003_search_indexes
Create Date: 2026-11-27

Reviewed by hand after autogenerate: timestamps are plain timestamptz here (the UTCDateTime decorator only
converts values in Python), and no application module is imported, so the migration keeps working when
the models change later.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_availability'
down_revision = '0003_search_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('availability_settings',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('buffer_before_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_after_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_hours', sa.Integer(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('slot_step_minutes', sa.Integer(), nullable=False),
    sa.Column('session_lengths', sa.JSON(), nullable=False),
    sa.Column('feed_token_digest', sa.String(length=64), nullable=True),
    sa.Column('feed_token_created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_available_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_available_valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('buffer_after_minutes BETWEEN 0 AND 240', name=op.f('ck_availability_settings_buffer_after_range')),
    sa.CheckConstraint('buffer_before_minutes BETWEEN 0 AND 240', name=op.f('ck_availability_settings_buffer_before_range')),
    sa.CheckConstraint('horizon_days BETWEEN 1 AND 365', name=op.f('ck_availability_settings_horizon_range')),
    sa.CheckConstraint('min_notice_hours BETWEEN 0 AND 720', name=op.f('ck_availability_settings_notice_range')),
    sa.CheckConstraint('slot_step_minutes IN (5, 10, 15, 20, 30, 60)', name=op.f('ck_availability_settings_slot_step_choice')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_availability_settings_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', name=op.f('pk_availability_settings')),
    sa.UniqueConstraint('feed_token_digest', name=op.f('uq_availability_settings_feed_token_digest'))
    )
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_settings_next_available_valid_until'), ['next_available_valid_until'], unique=False)

    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_time_off_ends_after_start')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_time_off_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index('ix_time_off_therapist_ends', ['therapist_id', 'ends_at'], unique=False)

    op.create_table('appointments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('booked', 'cancelled', 'completed', 'no_show', name='appointment_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_appointments_ends_after_start')),
    sa.ForeignKeyConstraint(['location_id'], ['practice_locations.id'], name=op.f('fk_appointments_location_id_practice_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_appointments_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_appointments_therapist_id_therapist_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointments'))
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appointments_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_appointments_therapist_starts', ['therapist_id', 'starts_at'], unique=False)

    op.create_table('extra_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('ends_at', sa.Time(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_extra_hours_ends_after_start')),
    sa.ForeignKeyConstraint(['location_id'], ['practice_locations.id'], name=op.f('fk_extra_hours_location_id_practice_locations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extra_hours'))
    )
    with op.batch_alter_table('extra_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extra_hours_location_id'), ['location_id'], unique=False)

    op.create_table('weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('ends_at', sa.Time(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_weekly_hours_ends_after_start')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_weekly_hours_weekday_range')),
    sa.ForeignKeyConstraint(['location_id'], ['practice_locations.id'], name=op.f('fk_weekly_hours_location_id_practice_locations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_weekly_hours'))
    )
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_hours_location_id'), ['location_id'], unique=False)



def downgrade():
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_hours_location_id'))

    op.drop_table('weekly_hours')
    with op.batch_alter_table('extra_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extra_hours_location_id'))

    op.drop_table('extra_hours')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_therapist_starts')
        batch_op.drop_index(batch_op.f('ix_appointments_patient_id'))

    op.drop_table('appointments')
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index('ix_time_off_therapist_ends')

    op.drop_table('time_off')
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_settings_next_available_valid_until'))

    op.drop_table('availability_settings')
