"""Posters as printed: the A4 PDF opens as one A4 page; the QR on the PNG (and on the PDF's page) is
PUBLIC_BASE_URL + /c/… when the setting is given, else the address the request came to (so a
development server on any port prints codes that open on that port); each kind has its own colours."""
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image

from backend.core import memo, signing
from backend.places import poster
from tests.factories import make_place

A4_POINTS = (595.2, 841.92)  # 210 × 297 mm


@pytest.fixture(autouse=True)
def posters_dir(app, tmp_path, monkeypatch):
    """The instance folder of this test: posters are kept in memory, so it stays empty."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    yield tmp_path
    assert not any(tmp_path.iterdir()), "nothing is written to the app server's disk"


def cached(place_id: int, size: str, fmt: str) -> int:
    """How many posters of this place, size and format the process keeps (the session fixture
    empties the cache after each test: place ids come round again after a rolled-back test)."""
    return sum(1 for key in memo.renders().keys() if key[0] == "poster" and key[1:3] == (place_id, size)
               and key[4] == fmt)


def qr_text(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "exactly one QR code on the poster"
    return results[0].text


def pdf_page_size(pdf: bytes) -> tuple[float, float]:
    """The MediaBox of the PDF's one page, in points."""
    text = pdf.decode("latin-1")
    assert text.count("/Type /Page\n") + text.count("/Type /Page ") + text.count("/Type /Page/") <= 1
    start = text.index("/MediaBox")
    box = text[text.index("[", start) + 1:text.index("]", start)].split()
    return float(box[2]) - float(box[0]), float(box[3]) - float(box[1])


def poster_page(pdf: bytes) -> Image.Image:
    """The one image on the PDF's page (Pillow writes an RGB page image as a JPEG XObject)."""
    import re

    text = pdf.decode("latin-1")
    assert text.count("/Subtype /Image") == 1, "one image on the page"
    head = re.search(r"/Subtype /Image.*?/Length (\d+)\s*>>\s*stream\r?\n", text, re.S)
    assert head and "/DCTDecode" in head.group(0)
    return Image.open(BytesIO(pdf[head.end():head.end() + int(head.group(1))])).convert("RGB")


def test_pdf_is_one_a4_page_with_the_print_poster(client, session):
    place = make_place(name="创贷之家·任城区古槐路驿站", phone="0537-2211001")
    response = client.get(f"/api/places/{place.id}/poster.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="poster-{place.id}-a4.pdf"'
    pdf = response.data
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-32:]
    width, height = pdf_page_size(pdf)
    assert abs(width - A4_POINTS[0]) < 1 and abs(height - A4_POINTS[1]) < 1
    # the page is the 300-dpi print poster, whose QR scans to the place
    page = poster_page(pdf)
    assert page.size == poster.SIZES["print"]
    assert signing.verify(qr_text(page), expect="place").fields == {"place_id": place.id}


def test_pdf_is_cached_and_follows_edits(client, session, posters_dir):
    place = make_place()
    first = client.get(f"/api/places/{place.id}/poster.pdf")
    assert client.get(f"/api/places/{place.id}/poster.pdf").data == first.data
    assert cached(place.id, "print", "pdf") == 1
    from backend.places import service

    service.update(actor=None, place=place, data={"name": "创贷之家·改名驿站"})
    assert client.get(f"/api/places/{place.id}/poster.pdf").data != first.data
    assert cached(place.id, "print", "pdf") == 1  # the old one is gone


def test_closed_place_has_no_pdf(client, session):
    from backend.places import service

    place = make_place()
    service.update(actor=None, place=place, data={"is_active": False})
    response = client.get(f"/api/places/{place.id}/poster.pdf")
    assert response.status_code == 404 and response.get_json()["code"] == "place_not_found"


@pytest.mark.parametrize("size", ["screen", "print"])
def test_configured_base_url_is_used_verbatim(client, app, session, monkeypatch, size):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://cyql.example.cn/")
    place = make_place()
    png = client.get(f"/api/places/{place.id}/poster.png?size={size}", base_url="http://127.0.0.1:8123").data
    text = qr_text(Image.open(BytesIO(png)))
    assert text.startswith("https://cyql.example.cn/c/")
    assert signing.verify(text, expect="place").fields == {"place_id": place.id}


def test_unset_base_url_follows_the_request_host(client, app, session, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    place = make_place()
    texts = {}
    for base in ("http://127.0.0.1:8123", "http://192.0.2.10:5001"):
        png = client.get(f"/api/places/{place.id}/poster.png", base_url=base).data
        texts[base] = qr_text(Image.open(BytesIO(png)))
        assert texts[base].startswith(base + "/c/"), texts[base]
    assert texts["http://127.0.0.1:8123"] != texts["http://192.0.2.10:5001"]  # two posters, each cached apart


def test_without_a_request_the_development_address(app, session, monkeypatch):
    from backend.core.urls import public_base_url

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    assert public_base_url() == "http://127.0.0.1:5000"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://cyql.example.cn")
    assert public_base_url() == "https://cyql.example.cn"


@pytest.mark.parametrize("kind,title,colour", [
    ("loan_station", "创贷之家", (214, 64, 53)),
    ("space", "喵小创·创业陪跑空间", (7, 193, 96)),
    ("street", "创业街区", (16, 104, 210)),
    ("market", "创业市场", (222, 120, 20)),
])
def test_each_kind_has_its_own_branding(client, session, kind, title, colour):
    place = make_place(kind=kind, name=f"测试{title}")
    brand = poster.brand_of(poster.content_of(place))
    assert brand.title == title and brand.colour == colour
    if kind == "loan_station":
        assert "创业担保贷款咨询" in brand.line
    png = client.get(f"/api/places/{place.id}/poster.png").data
    image = Image.open(BytesIO(png)).convert("RGB")
    assert image.getpixel((10, 10)) == colour  # the title band
    assert image.getpixel((10, image.height - 3)) == colour  # the bottom rule
