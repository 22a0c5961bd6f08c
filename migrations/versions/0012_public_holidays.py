"""public holidays: whether a therapist works on their practice's public holidays

Revision ID: 0012_public_holidays
Revises: 0011_payment_ledger
Create Date: 2026-12-06

Written by hand. Existing therapists keep working on holidays (`true`), as the slot engine treated them
before this setting existed; a therapist who turns it off gets their state's public holidays as closed days.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_public_holidays'
down_revision = '0011_payment_ledger'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('works_public_holidays', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('availability_settings', schema=None) as batch_op:
        batch_op.drop_column('works_public_holidays')
