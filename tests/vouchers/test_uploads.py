"""Uploads are checked by content: images re-encoded without EXIF and resized, PDFs accepted,
anything else refused with a Chinese message and nothing stored."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from backend.core.uploads import Upload
from backend.extensions import db


def png_bytes(size=(64, 48), color=(7, 193, 96)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(size=(3000, 2000)) -> bytes:
    image = Image.new("RGB", size, (200, 100, 50))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x010E] = "GPS 35.41N 116.58E"  # ImageDescription
    exif[0x0112] = 1  # Orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(client, headers, data: bytes, name: str):
    return client.post("/api/uploads", headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_image_is_resized_and_loses_its_exif(client, make_user, auth):
    user = make_user("entrepreneur")
    response = upload(client, auth(user), jpeg_with_gps(), "执照.jpg")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "image" and max(body["width"], body["height"]) == 1600
    stored = client.get(f"/api/uploads/{body['id']}", headers=auth(user))
    assert stored.status_code == 200
    image = Image.open(io.BytesIO(stored.data))
    assert image.size == (1600, 1067) and not image.getexif()
    assert b"SpyCam" not in stored.data


def test_a_pdf_is_accepted_and_only_its_owner_or_an_admin_can_read_it(client, make_user, auth):
    owner, other, admin = make_user("entrepreneur"), make_user("entrepreneur"), make_user("admin")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    body = upload(client, auth(owner), pdf, "申请书.pdf").get_json()
    assert body["kind"] == "pdf" and body["content_type"] == "application/pdf"
    assert client.get(f"/api/uploads/{body['id']}", headers=auth(other)).status_code == 403
    assert client.get(f"/api/uploads/{body['id']}", headers=auth(admin)).data == pdf


@pytest.mark.parametrize("data,name,code", [
    (b"MZ\x90\x00 not an image at all", "照片.jpg", "invalid_image"),
    (b"%PDF-1.4 but never ends", "a.pdf", "invalid_pdf"),
    (b"", "empty.png", "empty_file"),
    (png_bytes()[:40], "truncated.png", "invalid_image"),
])
def test_bad_files_are_refused_and_nothing_is_stored(client, make_user, auth, data, name, code):
    user = make_user("entrepreneur")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Upload))
    response = upload(client, auth(user), data, name)
    assert response.status_code in (413, 422) and response.get_json()["code"] == code
    assert "\u4e00" <= response.get_json()["message"][0] <= "\u9fff"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Upload)) == before


def test_an_upload_needs_a_file(client, make_user, auth):
    response = client.post("/api/uploads", headers=auth(make_user("entrepreneur")), data={},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and response.get_json()["code"] == "validation_error"
