"""courses: intakes, courses, appointments in a course, the booking lock, no overlapping appointments

Revision ID: 0005_courses
Revises: 0004_availability
Create Date: 2026-11-27

Reviewed by hand after autogenerate. Timestamps are plain timestamptz (no application imports). On
PostgreSQL the exclusion constraint `appointments_no_overlap` makes the database refuse two occupying
appointments of one therapist that overlap (it needs the btree_gist extension, trusted since PostgreSQL 13
so the database owner may create it); models/schedules.py adds the same DDL when tables are created from
the models. SQLite has no such constraint: bookings there are serialised by the write lock
(services/courses.py).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_courses'
down_revision = '0004_availability'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('intakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.String(length=64), nullable=False),
    sa.Column('cancer_history', sa.Boolean(), nullable=False),
    sa.Column('treatment_phase', sa.String(length=32), nullable=False),
    sa.Column('precautions', sa.JSON(), nullable=False),
    sa.Column('referral_name', sa.String(length=120), nullable=True),
    sa.Column('referral_npi', sa.String(length=10), nullable=True),
    sa.Column('referral_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_intakes_patient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intakes'))
    )
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intakes_patient_id'), ['patient_id'], unique=False)

    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.String(length=64), nullable=False),
    sa.Column('session_minutes', sa.Integer(), nullable=False),
    sa.Column('sessions_per_week', sa.Float(), nullable=True),
    sa.Column('total_sessions', sa.Integer(), nullable=False),
    sa.Column('citation_id', sa.String(length=64), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('session_notes', sa.JSON(), nullable=False),
    sa.Column('clearance_needed', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('booked', 'cancelled', 'completed', name='course_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('session_minutes > 0', name=op.f('ck_courses_session_minutes_positive')),
    sa.CheckConstraint('total_sessions BETWEEN 1 AND 40', name=op.f('ck_courses_total_sessions_range')),
    sa.ForeignKeyConstraint(['intake_id'], ['intakes.id'], name=op.f('fk_courses_intake_id_intakes'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['location_id'], ['practice_locations.id'], name=op.f('fk_courses_location_id_practice_locations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_courses_patient_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist_profiles.id'], name=op.f('fk_courses_therapist_id_therapist_profiles'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_courses_therapist_id'), ['therapist_id'], unique=False)

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('course_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('session_number', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_appointments_course_id'), ['course_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_appointments_course_id_courses'), 'courses', ['course_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bookings_version', sa.Integer(), server_default='0', nullable=False))

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS btree_gist')
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist "
            "(therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status IN ('booked', 'completed', 'no_show'))"
        )



def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap')
    with op.batch_alter_table('therapist_profiles', schema=None) as batch_op:
        batch_op.drop_column('bookings_version')

    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_appointments_course_id_courses'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_appointments_course_id'))
        batch_op.drop_column('session_number')
        batch_op.drop_column('course_id')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_therapist_id'))
        batch_op.drop_index(batch_op.f('ix_courses_patient_id'))

    op.drop_table('courses')
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intakes_patient_id'))

    op.drop_table('intakes')
