"""notification preferences: patients can turn reminders off; outbox rows carry headers and their session

Revision ID: 0010_notification_preferences
Revises: 0009_outbox
Create Date: 2026-11-27

Reviewed by hand after autogenerate: the default of `users.reminders_enabled` is `sa.true()` (autogenerate
wrote SQLite's `1`, which PostgreSQL refuses for a boolean), so existing accounts keep getting reminders.
`outbox_messages.headers` holds extra headers (List-Unsubscribe on reminders); `appointment_id` names the
session a reminder is about, so the sender can check it is still booked at that time before sending.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_notification_preferences'
down_revision = '0009_outbox'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_appointment_id_appointments'), 'appointments', ['appointment_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('reminders_enabled')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_appointment_id_appointments'), type_='foreignkey')
        batch_op.drop_column('appointment_id')
        batch_op.drop_column('headers')
