"""push notifications, the IOC feed (CloudEvents log, webhooks), ratings

Every report event gets an ``event.publish`` outbox row from a trigger, so no
code path that writes an event (ORM or bulk insert) can forget to publish it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 14:10:00.000000
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

EVENT_TYPES = ("report.created", "report.routed", "report.status_changed", "sla.warning",
               "sla.breached", "report.rated")


def upgrade() -> None:
    op.create_index('ix_outbox_event', 'outbox', ['event_id', 'topic'])
    # The KPIs count received reports and answers by day.
    op.create_index('ix_report_created', 'report', ['created_at'])
    op.create_index('ix_report_event_resolved_at', 'report_event', ['created_at'],
                    postgresql_where=sa.text("to_status = 'resolved'"))
    op.add_column('open311_api_key', sa.Column(
        'scopes', postgresql.ARRAY(sa.String(length=20)), server_default=sa.text("'{open311}'"),
        nullable=False))

    op.create_table('device',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=4096), nullable=False),
    sa.Column('platform', sa.String(length=10), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('app_version', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("platform IN ('android', 'ios', 'web')", name='device_platform'),
    sa.CheckConstraint("locale IN ('vi', 'en')", name='device_locale'),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    op.create_index('ix_device_citizen', 'device', ['citizen_id'])

    op.create_table('notification',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['report_event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('citizen_id', 'event_id', name='uq_notification_citizen_event')
    )
    op.create_index('ix_notification_citizen', 'notification', ['citizen_id', sa.text('id DESC')])

    op.create_table('push_delivery',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('device_id', sa.BigInteger(), nullable=True),
    sa.Column('notification_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('fcm_message_id', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'pruned')", name='push_delivery_status'),
    sa.ForeignKeyConstraint(['event_id'], ['report_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'device_id', name='uq_push_delivery_event_device')
    )
    op.create_index('ix_push_delivery_due', 'push_delivery', ['next_attempt_at'],
                    postgresql_where=sa.text("status = 'pending'"))

    op.create_table('ioc_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('source_event_id', sa.BigInteger(), nullable=False),
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=20), nullable=False),
    sa.Column('time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint(f"type IN {EVENT_TYPES}", name='ioc_event_type'),
    sa.ForeignKeyConstraint(['source_event_id'], ['report_event.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_event_id', 'type', name='uq_ioc_event_source_type')
    )
    op.create_index('ix_ioc_event_time', 'ioc_event', ['time'])
    op.create_index('ix_ioc_event_report_id', 'ioc_event', ['report_id'])

    op.create_table('webhook_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=False),
    sa.Column('types', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id']),
    sa.PrimaryKeyConstraint('id')
    )

    op.create_table('webhook_delivery',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('ioc_event_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name='webhook_delivery_status'),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscription.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ioc_event_id'], ['ioc_event.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('subscription_id', 'ioc_event_id', name='uq_webhook_delivery_sub_event')
    )
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['next_attempt_at'],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_delivery_sub_status', 'webhook_delivery',
                    ['subscription_id', 'status', 'ioc_event_id'])

    op.create_table('report_rating',
    sa.Column('report_id', sa.BigInteger(), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name='report_rating_score'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id')
    )
    op.create_index('ix_report_rating_created', 'report_rating', ['created_at'])

    # The fan-out hook: every report event, however written, is queued for publishing in
    # the same transaction. The lease (10 s) is how long the fast path has before the
    # outbox relay sends it again.
    op.execute("""
CREATE FUNCTION report_event_publish() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO outbox (topic, report_id, event_id, payload, created_at, next_attempt_at, attempts)
  VALUES ('event.publish', NEW.report_id, NEW.id, '{}'::jsonb, now(),
          now() + interval '10 seconds', 0);
  RETURN NULL;
END $$;
CREATE TRIGGER report_event_publish AFTER INSERT ON report_event
  FOR EACH ROW EXECUTE FUNCTION report_event_publish();
""")


def downgrade() -> None:
    op.execute("DROP TRIGGER report_event_publish ON report_event")
    op.execute("DROP FUNCTION report_event_publish()")
    op.drop_index('ix_report_rating_created', table_name='report_rating')
    op.drop_table('report_rating')
    op.drop_index('ix_webhook_delivery_sub_status', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_table('webhook_subscription')
    op.drop_index('ix_ioc_event_report_id', table_name='ioc_event')
    op.drop_index('ix_ioc_event_time', table_name='ioc_event')
    op.drop_table('ioc_event')
    op.drop_index('ix_push_delivery_due', table_name='push_delivery')
    op.drop_table('push_delivery')
    op.drop_index('ix_notification_citizen', table_name='notification')
    op.drop_table('notification')
    op.drop_index('ix_device_citizen', table_name='device')
    op.drop_table('device')
    op.drop_column('open311_api_key', 'scopes')
    op.drop_index('ix_report_event_resolved_at', table_name='report_event')
    op.drop_index('ix_report_created', table_name='report')
    op.drop_index('ix_outbox_event', table_name='outbox')
