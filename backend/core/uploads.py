"""Uploaded files (application materials, later event covers): checked by content, never by name.

Images are opened with Pillow, bounded in pixels, turned upright, re-encoded without their EXIF
(which carries GPS positions and camera serials) and resized; PDFs must look like PDFs. The bytes
are stored in the database (table ``upload_content``, one row per content hash however many uploads
share it), so every app server serves every upload; nothing is written to a server's disk."""
from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Mapped, mapped_column

from backend.core.db import UTCDateTime, utcnow
from backend.core.errors import DomainError, Forbidden, NotFound
from backend.extensions import db

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP"}


class Upload(db.Model):
    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # image | pdf
    content_type: Mapped[str] = mapped_column(sa.String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_name: Mapped[str] = mapped_column(sa.String(128), default="")
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[self.content_type]


class UploadContent(db.Model):
    """The bytes of uploaded files, by content hash (uploads of the same bytes share one row)."""

    __tablename__ = "upload_content"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint(f"size BETWEEN 1 AND {MAX_BYTES}", name="size_range"),)


def _save_content(digest: str, data: bytes) -> None:
    """Insert the bytes unless that content is stored already (a concurrent twin upload waits, then skips)."""
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(UploadContent.__table__).values(
        sha256=digest, data=data, size=len(data), created_at=utcnow()).on_conflict_do_nothing())


def content_of(upload: Upload) -> bytes:
    data = db.session.scalar(sa.select(UploadContent.data).where(UploadContent.sha256 == upload.sha256))
    if data is None:
        raise NotFound("文件内容不存在，请重新上传或联系管理员", code="upload_content_missing")
    return data


def import_directory(directory) -> tuple[int, int]:
    """Copy an older checkout's files (``<sha256>.<ext>``) for uploads whose content is not in the
    database yet; a file whose bytes do not hash to its name is skipped. Returns (imported, missing)."""
    folder = Path(directory)
    wanted = db.session.execute(
        sa.select(Upload.sha256, Upload.content_type).distinct()
        .outerjoin(UploadContent, UploadContent.sha256 == Upload.sha256).where(UploadContent.sha256.is_(None))).all()
    imported = missing = 0
    for digest, content_type in wanted:
        ext = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}[content_type]
        path = folder / f"{digest}.{ext}"
        data = path.read_bytes() if path.is_file() else None
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            missing += 1
            continue
        _save_content(digest, data)
        imported += 1
    db.session.flush()
    return imported, missing


def normalise_image(data: bytes, *, max_side: int = MAX_SIDE) -> tuple[bytes, str, int, int]:
    """Check an image by content; return (bytes, content type, width, height), EXIF stripped."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in IMAGE_FORMATS:
                raise DomainError("只支持 JPG、PNG、WebP 图片或 PDF 文件", code="unsupported_file", status=422)
            if probe.width * probe.height > MAX_PIXELS:
                raise DomainError("图片尺寸过大", code="image_too_large", status=422)
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        raise DomainError("文件不是有效的图片", code="invalid_image", status=422) from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and (image.mode != "P" or "transparency" in image.info):
        image.convert("RGBA").save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
        content_type = "image/jpeg"
    return out.getvalue(), content_type, image.width, image.height


def _check_pdf(data: bytes) -> None:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
        raise DomainError("文件不是有效的 PDF", code="invalid_pdf", status=422)


def store(*, owner, data: bytes, filename: str = "") -> Upload:
    if not data:
        raise DomainError("文件是空的", code="empty_file", status=422)
    if len(data) > MAX_BYTES:
        raise DomainError("文件不能超过 10 MB", code="file_too_large", status=413)
    width = height = None
    if data.startswith(b"%PDF-"):
        _check_pdf(data)
        kind, content_type = "pdf", "application/pdf"
    else:
        data, content_type, width, height = normalise_image(data)
        kind = "image"
    digest = hashlib.sha256(data).hexdigest()
    upload = Upload(owner_id=owner.id, kind=kind, content_type=content_type, size=len(data), sha256=digest,
                    original_name=Path(filename or "").name[:128], width=width, height=height)
    _save_content(digest, data)
    db.session.add(upload)
    db.session.flush()
    return upload


# Uploads a domain keeps to its own handlers (loan documents: the case's handlers only): each
# registered ``fn(upload_id) -> bool`` says whether the general file endpoint must refuse others.
_private: list = []


def private_when(fn):
    """Register ``fn(upload_id)``: True when only the owner may read the file here (the domain serves it
    to its handlers itself)."""
    _private.append(fn)
    return fn


def get_readable(*, user, id: int) -> Upload:
    upload = db.session.get(Upload, id)
    if upload is None:
        raise NotFound("文件不存在", code="upload_not_found")
    if upload.owner_id != user.id and (not user.has_role("admin") or any(fn(upload.id) for fn in _private)):
        raise Forbidden("没有权限查看该文件", code="forbidden")
    return upload


def send(upload: Upload):
    """The response serving an upload: its bytes, or 304 when the client has them (they never change)."""
    from flask import current_app, request, send_file

    if request.if_none_match.contains(upload.sha256):
        response = current_app.response_class(status=304)
    else:
        response = send_file(io.BytesIO(content_of(upload)), mimetype=upload.content_type,
                             download_name=f"upload-{upload.id}.{upload.extension}", etag=False)
    response.set_etag(upload.sha256)
    response.cache_control.private, response.cache_control.max_age = True, 3600
    return response


def owned(*, user, ids: list[int]) -> list[Upload]:
    """The user's own uploads with these ids, or a clear error naming the first that is not."""
    rows = {u.id: u for u in db.session.scalars(sa.select(Upload).where(Upload.id.in_(ids or [-1])))}
    for upload_id in ids:
        if upload_id not in rows or rows[upload_id].owner_id != user.id:
            raise DomainError("材料文件不存在，请重新上传", code="upload_not_found", status=422,
                              details={"upload_id": upload_id})
    return [rows[i] for i in ids]
