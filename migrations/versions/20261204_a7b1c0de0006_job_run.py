"""job_run: each run of a scheduled job (start, end, outcome, counts, error); at most one running per job

Revision ID: a7b1c0de0006
Revises: b8c2c0de0007
Create Date: 2026-12-04 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7b1c0de0006'
down_revision = 'b8c2c0de0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.Enum('schedule', 'manual', 'cli', name='job_run_trigger', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('outcome', sa.Enum('running', 'ok', 'failed', 'skipped', name='job_run_outcome', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('attempt', sa.SmallInteger(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('attempt >= 1', name=op.f('ck_job_run_attempt_positive')),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_job_run_actor_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_run_job'), ['job', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_run_outcome'), ['outcome'], unique=False)
        batch_op.create_index('uq_job_run_job_running', ['job'], unique=True,
                              sqlite_where=sa.text("outcome = 'running'"), postgresql_where=sa.text("outcome = 'running'"))


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('uq_job_run_job_running')
        batch_op.drop_index(batch_op.f('ix_job_run_outcome'))
        batch_op.drop_index(batch_op.f('ix_job_run_job'))

    op.drop_table('job_run')
