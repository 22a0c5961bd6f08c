"""course coverage: how many of a course's sessions its plan covers, and the copay each of those costs

Revision ID: 0008_course_coverage
Revises: 0007_eligibility
Create Date: 2026-11-27

Reviewed by hand after autogenerate, which sees no CHECK constraints: the covered count stays within the
course, the copay within the session price, and only a course under a plan has covered sessions. Existing
courses were all booked self-pay: nothing covered, no copay, so their prices and refunds do not change.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_course_coverage'
down_revision = '0007_eligibility'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_sessions', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('copay_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            'covered_sessions_range', 'covered_sessions >= 0 AND covered_sessions <= total_sessions'
        )
        batch_op.create_check_constraint('copay_range', 'copay_cents >= 0 AND copay_cents <= session_price_cents')
        batch_op.create_check_constraint('covered_needs_plan', 'covered_sessions = 0 OR plan_id IS NOT NULL')


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        for name in ('covered_needs_plan', 'copay_range', 'covered_sessions_range'):
            batch_op.drop_constraint(batch_op.f(f'ck_courses_{name}'), type_='check')
        batch_op.drop_column('copay_cents')
        batch_op.drop_column('covered_sessions')
