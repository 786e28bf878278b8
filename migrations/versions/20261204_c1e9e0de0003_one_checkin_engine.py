"""one check-in engine: door scans join the check-in scan log (channel door, with the event and the
registration) so doors and places share one failed-scan log and one review queue; a visit and a
registration's check-in name the scan that holds them (the earliest)

Revision ID: c1e9e0de0003
Revises: b16a0c0de002
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c1e9e0de0003'
down_revision = 'b16a0c0de002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=8), server_default='place', nullable=False))
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('registration_id', sa.Integer(), nullable=True))
        batch_op.create_check_constraint('scan_channel', "channel IN ('place', 'door')")
        batch_op.create_foreign_key(batch_op.f('fk_checkin_scan_event_id_event'), 'event', ['event_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_checkin_scan_registration_id_registration'), 'registration',
                                    ['registration_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_checkin_scan_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_scan_registration_id'), ['registration_id'], unique=False)
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scan_nonce', sa.String(length=64), nullable=True))
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_nonce', sa.String(length=64), nullable=True))

    # the door's scans move into the one log (a nonce both tables hold stays with the station's scan)
    op.execute("""
        INSERT INTO checkin_scan (nonce, channel, result, reason, place_id, user_id, event_id, registration_id,
                                  device_id, staff_id, scanned_at, received_at, offline, conflict, code_excerpt,
                                  review_note)
        SELECT d.nonce, 'door', d.result, d.reason, e.place_id, r.user_id, d.event_id, d.registration_id,
               d.device_id, d.staff_id, d.scanned_at, d.received_at, d.offline, false, '', ''
        FROM door_scan d JOIN event e ON e.id = d.event_id JOIN registration r ON r.id = d.registration_id
        WHERE d.nonce NOT IN (SELECT nonce FROM checkin_scan)
        ORDER BY d.id""")
    op.execute("""
        UPDATE registration SET checkin_nonce = (
            SELECT s.nonce FROM checkin_scan s WHERE s.registration_id = registration.id AND s.result = 'ok'
            ORDER BY s.scanned_at, s.id LIMIT 1)
        WHERE checked_in_at IS NOT NULL""")
    op.execute("""
        UPDATE visit SET scan_nonce = (
            SELECT s.nonce FROM checkin_scan s WHERE s.visit_id = visit.id AND s.result IN ('ok', 'forced')
            ORDER BY s.scanned_at, s.id LIMIT 1)""")
    with op.batch_alter_table('door_scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_door_scan_registration_id'))
        batch_op.drop_index(batch_op.f('ix_door_scan_event_id'))
    op.drop_table('door_scan')


def downgrade():
    op.create_table('door_scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.Enum('ok', 'duplicate', 'forced', name='checkin_result', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['scanner_device.id'], name=op.f('fk_door_scan_device_id_scanner_device'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_door_scan_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_door_scan_registration_id_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_door_scan_staff_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_door_scan')),
    sa.UniqueConstraint('nonce', name=op.f('uq_door_scan_nonce'))
    )
    with op.batch_alter_table('door_scan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_door_scan_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_door_scan_registration_id'), ['registration_id'], unique=False)
    # the door's rejected scans had no home before: they are dropped
    op.execute("""
        INSERT INTO door_scan (nonce, event_id, registration_id, result, reason, scanned_at, received_at, offline,
                               device_id, staff_id)
        SELECT nonce, event_id, registration_id, result, reason, scanned_at, received_at, offline, device_id, staff_id
        FROM checkin_scan
        WHERE channel = 'door' AND registration_id IS NOT NULL AND event_id IS NOT NULL AND result <> 'rejected'
        ORDER BY id""")
    op.execute("DELETE FROM checkin_scan WHERE channel = 'door'")
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_column('checkin_nonce')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_column('scan_nonce')
    with op.batch_alter_table('checkin_scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_scan_registration_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_scan_event_id'))
        batch_op.drop_constraint(batch_op.f('fk_checkin_scan_registration_id_registration'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_checkin_scan_event_id_event'), type_='foreignkey')
        batch_op.drop_constraint('scan_channel', type_='check')
        batch_op.drop_column('registration_id')
        batch_op.drop_column('event_id')
        batch_op.drop_column('channel')
