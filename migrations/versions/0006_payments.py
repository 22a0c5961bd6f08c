"""payments: course prices and payment state, refunds, applied Stripe events, held and released sessions

Revision ID: 0006_payments
Revises: 0005_courses
Create Date: 2026-11-27

Reviewed by hand after autogenerate, which sees neither enum values nor CHECK constraints: the status
CHECKs of courses and appointments are replaced to admit the new values (pending_payment, expired,
released), and on PostgreSQL the no-overlap exclusion constraint also counts held (pending_payment)
sessions. Existing courses become "pay at the visit" with a price of 0 (they were booked before prices
were kept). Timestamps are plain timestamptz (no application imports).
"""
from alembic import op
import sqlalchemy as sa

COURSE_STATUSES = ("booked", "cancelled", "completed")
NEW_COURSE_STATUSES = ("pending_payment", *COURSE_STATUSES, "expired")
APPOINTMENT_STATUSES = ("booked", "cancelled", "completed", "no_show")
NEW_APPOINTMENT_STATUSES = ("pending_payment", *APPOINTMENT_STATUSES, "released")


def _in(values):
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _no_overlap(statuses):
    op.execute(
        "ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist "
        "(therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE ({_in(statuses)})"
    )


# revision identifiers, used by Alembic.
revision = '0006_payments'
down_revision = '0005_courses'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('course_refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('appointment_ids', sa.JSON(), nullable=False),
    sa.Column('waived', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_course_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_course_refunds_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_refunds_course_id_courses'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_refunds')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_course_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('course_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_refunds_course_id'), ['course_id'], unique=False)

    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=120), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_stripe_events_course_id_courses'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_events_course_id'), ['course_id'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_mode', sa.Enum('card', 'at_visit', name='payment_mode', native_enum=False, create_constraint=True, length=32), server_default='at_visit', nullable=False))
        batch_op.add_column(sa.Column('session_price_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='usd', nullable=False))
        batch_op.add_column(sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('payment_intent_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('paid_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('refunded_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('payment_error', sa.String(length=300), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_hold_expires_at'), ['hold_expires_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_courses_payment_intent_id'), ['payment_intent_id'])
        batch_op.drop_constraint(batch_op.f('ck_courses_course_status'), type_='check')
        batch_op.create_check_constraint('course_status', _in(NEW_COURSE_STATUSES))
        batch_op.create_check_constraint(
            'prices_not_negative', 'price_cents >= 0 AND session_price_cents >= 0'
        )
        batch_op.create_check_constraint(
            'refunds_within_paid', 'refunded_cents >= 0 AND refunded_cents <= paid_cents'
        )

    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointments_appointment_status'), type_='check')
        batch_op.create_check_constraint('appointment_status', _in(NEW_APPOINTMENT_STATUSES))
    if postgres:
        _no_overlap(("booked", "completed", "no_show", "pending_payment"))


def downgrade():
    # Held and released sessions, and unpaid or expired courses, have no place in the older schema.
    op.execute("UPDATE appointments SET status = 'cancelled' WHERE status IN ('pending_payment', 'released')")
    op.execute("UPDATE courses SET status = 'cancelled' WHERE status IN ('pending_payment', 'expired')")
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_appointments_appointment_status'), type_='check')
        batch_op.create_check_constraint('appointment_status', _in(APPOINTMENT_STATUSES))
    if postgres:
        _no_overlap(("booked", "completed", "no_show"))

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_courses_refunds_within_paid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_courses_prices_not_negative'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_courses_payment_mode'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_courses_course_status'), type_='check')
        batch_op.create_check_constraint('course_status', _in(COURSE_STATUSES))
        batch_op.drop_constraint(batch_op.f('uq_courses_payment_intent_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_courses_hold_expires_at'))
        batch_op.drop_column('payment_error')
        batch_op.drop_column('paid_at')
        batch_op.drop_column('refunded_cents')
        batch_op.drop_column('paid_cents')
        batch_op.drop_column('payment_intent_id')
        batch_op.drop_column('hold_expires_at')
        batch_op.drop_column('currency')
        batch_op.drop_column('price_cents')
        batch_op.drop_column('session_price_cents')
        batch_op.drop_column('payment_mode')

    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_events_course_id'))

    op.drop_table('stripe_events')
    with op.batch_alter_table('course_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_refunds_course_id'))

    op.drop_table('course_refunds')
