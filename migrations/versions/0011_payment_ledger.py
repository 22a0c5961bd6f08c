"""payment ledger: one row per charge (course_charges) beside one per refund; course totals derived from them

Revision ID: 0011_payment_ledger
Revises: 0010_notification_preferences
Create Date: 2026-12-06

Written by hand. `courses.paid_cents` and `refunded_cents` become sums over the ledger (models/payments.py),
so the columns and their CHECK go. Existing data keeps its balance exactly: a course with money paid gets one
`paid` charge for all of it on its PaymentIntent (before this ledger a second payment was added into
`paid_cents` without its own id), and each refund is tied to the course's PaymentIntent in the course's
currency. `courses.payment_attempts` numbers the PaymentIntents started, for their idempotency keys.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_payment_ledger'
down_revision = '0010_notification_preferences'
branch_labels = None
depends_on = None

OUTCOMES = ('paid', 'duplicate', 'late', 'mismatch')


def upgrade():
    op.create_table(
        'course_charges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('payment_intent_id', sa.String(length=255), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column(
            'outcome',
            sa.Enum(*OUTCOMES, name='charge_outcome', native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column('flagged', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_cents > 0', name=op.f('ck_course_charges_amount_positive')),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'], name=op.f('fk_course_charges_course_id_courses'), ondelete='RESTRICT'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_course_charges')),
        sa.UniqueConstraint('payment_intent_id', name=op.f('uq_course_charges_payment_intent_id')),
    )
    with op.batch_alter_table('course_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_charges_course_id'), ['course_id'], unique=False)

    with op.batch_alter_table('course_refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_intent_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))

    op.execute(
        "INSERT INTO course_charges (course_id, payment_intent_id, amount_cents, currency, outcome, flagged,"
        " created_at)"
        " SELECT id, COALESCE(payment_intent_id, 'pre-ledger-course-' || id), paid_cents, currency, 'paid',"
        " false, COALESCE(paid_at, updated_at) FROM courses WHERE paid_cents > 0"
    )
    op.execute(
        "UPDATE course_refunds SET"
        " payment_intent_id = (SELECT COALESCE(c.payment_intent_id, 'pre-ledger-course-' || c.id)"
        " FROM courses c WHERE c.id = course_refunds.course_id),"
        " currency = (SELECT c.currency FROM courses c WHERE c.id = course_refunds.course_id)"
    )
    with op.batch_alter_table('course_refunds', schema=None) as batch_op:
        batch_op.alter_column('payment_intent_id', existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column('currency', existing_type=sa.String(length=3), nullable=False)
        batch_op.create_index(batch_op.f('ix_course_refunds_payment_intent_id'), ['payment_intent_id'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_courses_refunds_within_paid'), type_='check')
        batch_op.drop_column('refunded_cents')
        batch_op.drop_column('paid_cents')


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('refunded_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('payment_attempts')
    op.execute(
        "UPDATE courses SET"
        " paid_cents = COALESCE((SELECT SUM(amount_cents) FROM course_charges ch"
        " WHERE ch.course_id = courses.id AND ch.currency = courses.currency), 0),"
        " refunded_cents = COALESCE((SELECT SUM(amount_cents) FROM course_refunds r"
        " WHERE r.course_id = courses.id AND r.currency = courses.currency), 0)"
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'refunds_within_paid', 'refunded_cents >= 0 AND refunded_cents <= paid_cents'
        )

    with op.batch_alter_table('course_refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_refunds_payment_intent_id'))
        batch_op.drop_column('currency')
        batch_op.drop_column('payment_intent_id')

    with op.batch_alter_table('course_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_charges_course_id'))
    op.drop_table('course_charges')
