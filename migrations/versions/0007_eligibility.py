"""eligibility: coverage rules on insurance plans, insurer accounts tied to a payer, a course's plan, and
the eligibility checks made

Revision ID: 0007_eligibility
Revises: 0006_payments
Create Date: 2026-11-27

Reviewed by hand after autogenerate: existing plans get the model's defaults (massage covered for
guideline- and trial-supported conditions, in network only, CMS 8-minute rule, no copay), and the range
CHECKs that autogenerate does not see are added. Timestamps are plain timestamptz.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_eligibility'
down_revision = '0006_payments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('eligibility_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('icd10_code', sa.String(length=10), nullable=False),
    sa.Column('session_minutes', sa.Integer(), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('covered_sessions', sa.Integer(), nullable=False),
    sa.Column('reason_codes', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_eligibility_checks_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_eligibility_checks_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payer_id'], ['payers.id'], name=op.f('fk_eligibility_checks_payer_id_payers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['insurance_plans.id'], name=op.f('fk_eligibility_checks_plan_id_insurance_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_checks'))
    )
    with op.batch_alter_table('eligibility_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eligibility_checks_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_eligibility_checks_payer_id'), ['payer_id'], unique=False)

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_courses_plan_id'), ['plan_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_courses_plan_id_insurance_plans'), 'insurance_plans', ['plan_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('insurance_plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covers_massage', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('evidence_strengths', sa.JSON(), server_default='["guideline", "trial"]', nullable=False))
        batch_op.add_column(sa.Column('referral_required', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('referral_valid_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('annual_visit_limit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('plan_year_start_month', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('max_units_per_visit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('in_network_only', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('oncology_credential_for_cancer', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('unit_rule', sa.Enum('cms_8_minute', 'whole_15_minute', name='unit_rule', native_enum=False, create_constraint=True, length=32), server_default='cms_8_minute', nullable=False))
        batch_op.add_column(sa.Column('copay_cents', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('below_dose', sa.Enum('warn', 'require', name='below_dose_rule', native_enum=False, create_constraint=True, length=32), server_default='warn', nullable=False))
        batch_op.create_check_constraint('copay_not_negative', 'copay_cents >= 0')
        batch_op.create_check_constraint('visit_limit_range', 'annual_visit_limit IS NULL OR annual_visit_limit >= 0')
        batch_op.create_check_constraint('max_units_range', 'max_units_per_visit IS NULL OR max_units_per_visit > 0')
        batch_op.create_check_constraint('referral_days_range', 'referral_valid_days IS NULL OR referral_valid_days > 0')
        batch_op.create_check_constraint('plan_year_month_range', 'plan_year_start_month BETWEEN 1 AND 12')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_payer_id'), ['payer_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_payer_id_payers'), 'payers', ['payer_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_payer_id_payers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_payer_id'))
        batch_op.drop_column('payer_id')

    with op.batch_alter_table('insurance_plans', schema=None) as batch_op:
        for name in ('copay_not_negative', 'visit_limit_range', 'max_units_range', 'referral_days_range',
                     'plan_year_month_range', 'unit_rule', 'below_dose_rule'):
            batch_op.drop_constraint(batch_op.f(f'ck_insurance_plans_{name}'), type_='check')
        batch_op.drop_column('below_dose')
        batch_op.drop_column('copay_cents')
        batch_op.drop_column('unit_rule')
        batch_op.drop_column('oncology_credential_for_cancer')
        batch_op.drop_column('in_network_only')
        batch_op.drop_column('max_units_per_visit')
        batch_op.drop_column('plan_year_start_month')
        batch_op.drop_column('annual_visit_limit')
        batch_op.drop_column('referral_valid_days')
        batch_op.drop_column('referral_required')
        batch_op.drop_column('evidence_strengths')
        batch_op.drop_column('covers_massage')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_courses_plan_id_insurance_plans'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_courses_plan_id'))
        batch_op.drop_column('plan_id')

    with op.batch_alter_table('eligibility_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eligibility_checks_payer_id'))
        batch_op.drop_index(batch_op.f('ix_eligibility_checks_created_at'))

    op.drop_table('eligibility_checks')
