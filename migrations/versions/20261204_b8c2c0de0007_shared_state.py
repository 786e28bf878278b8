"""shared state: signing keys (private keys encrypted) and uploaded files' bytes in the database, so
every app server signs, verifies and serves the same; the files an older checkout kept under its
instance folder are copied in (keys are imported on the app's first start, see backend/core/keys.py)

Revision ID: b8c2c0de0007
Revises: f6d2c0de0005
Create Date: 2026-12-04 18:20:00

"""
import hashlib
from datetime import datetime, timezone
import logging
import os
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c2c0de0007'
down_revision = 'f6d2c0de0005'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def upgrade():
    op.create_table('signing_key',
    sa.Column('kid', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('private_key', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('active', 'retired', name='signing_key_status', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('kid > 0', name=op.f('ck_signing_key_kid_positive')),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )
    op.create_table('upload_content',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size BETWEEN 1 AND 10485760', name=op.f('ck_upload_content_size_range')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_upload_content'))
    )
    _copy_upload_files()


def _copy_upload_files():
    """The files of this checkout's uploads (UPLOAD_DIR or <instance>/uploads, ``<sha256>.<ext>``);
    the ones not found here are left to ``flask uploads import DIR`` on the server that has them."""
    try:
        from flask import current_app
        folder = Path(current_app.config.get("UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads"))
    except RuntimeError:  # alembic run without the app
        return
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT DISTINCT sha256, content_type FROM upload")).all()
    content = sa.table('upload_content', sa.column('sha256'), sa.column('data', sa.LargeBinary),
                       sa.column('size'), sa.column('created_at', sa.DateTime(timezone=True)))
    copied = missing = 0
    for digest, content_type in rows:
        path = folder / f"{digest}.{EXTENSIONS.get(content_type, 'bin')}"
        data = path.read_bytes() if path.is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            missing += 1
            continue
        conn.execute(content.insert().values(sha256=digest, data=data, size=len(data),
                                             created_at=datetime.now(timezone.utc)))
        copied += 1
    if rows:
        log.warning("uploads: %d file(s) copied into the database from %s, %d not found there "
                    "(run `flask uploads import DIR` where they are)", copied, folder, missing)


def downgrade():
    op.drop_table('upload_content')
    op.drop_table('signing_key')
