"""Place posters: the QR on the PNG scans back to the place's signed code; posters are cached in
the process's memory (never on disk) and redrawn when the place or the signing key changes; no
Chinese font is a clear 503."""
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from backend.core import memo, signing
from backend.core.keys import keyring
from backend.places import poster, service
from tests.factories import make_place

NOTO = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


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


@pytest.fixture
def draws(monkeypatch):
    """Count calls of the drawing function (still drawing for real)."""
    calls = []
    real = poster.draw

    def counting(*args, **kwargs):
        calls.append(kwargs["size"])
        return real(*args, **kwargs)

    monkeypatch.setattr(poster, "draw", counting)
    return calls


def scan(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "exactly one QR code on the poster"
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


@pytest.mark.parametrize("size", ["screen", "print"])
def test_poster_scans_to_the_signed_place_code(client, app, session, size):
    place = make_place(name="创贷之家·任城区济阳街道驿站")
    response = client.get(f"/api/places/{place.id}/poster.png", query_string={"size": size})
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == f'inline; filename="poster-{place.id}-{size}.png"'
    assert response.headers["ETag"] and response.cache_control.max_age == 3600
    image = Image.open(BytesIO(response.data))
    assert image.size == poster.SIZES[size]
    text = scan(response.data)
    assert text.startswith("http://localhost/c/")  # no PUBLIC_BASE_URL: the request's host; WeChat's scanner opens it
    code = signing.verify(text, expect="place")
    assert code.fields == {"place_id": place.id}
    assert code.not_before is None and code.not_after is None  # printed: no validity window


def test_default_size_is_screen(client, session):
    place = make_place()
    response = client.get(f"/api/places/{place.id}/poster.png")
    assert Image.open(BytesIO(response.data)).size == poster.SIZES["screen"]


def test_missing_or_closed_place_is_404(client, session):
    closed = make_place(name="创贷之家·已关闭驿站")
    service.update(actor=None, place=closed, data={"is_active": False})
    for place_id in (closed.id, 999999):
        response = client.get(f"/api/places/{place_id}/poster.png")
        assert response.status_code == 404
        assert response.get_json()["code"] == "place_not_found"


def test_bad_size_is_422(client, session):
    place = make_place()
    response = client.get(f"/api/places/{place.id}/poster.png?size=a3")
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert body["details"]["query"]["size"] == ["尺寸只能是 screen 或 print"]


def test_second_request_is_served_from_the_cache(client, session, draws, posters_dir, monkeypatch):
    place = make_place()
    url = f"/api/places/{place.id}/poster.png"
    first = client.get(url)
    assert first.status_code == 200 and draws == ["screen"]
    assert cached(place.id, "screen", "png") == 1

    def broken(*args, **kwargs):
        raise AssertionError("drawn again")

    monkeypatch.setattr(poster, "draw", broken)
    second = client.get(url)
    assert second.status_code == 200 and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_editing_the_place_redraws_its_poster(client, session, draws, posters_dir):
    place = make_place()
    url = f"/api/places/{place.id}/poster.png"
    before = client.get(url)
    service.update(actor=None, place=place, data={"name": "创贷之家·曲阜驿站", "opening_hours": "8:30-17:30"})
    after = client.get(url)
    assert draws == ["screen", "screen"]
    assert after.data != before.data and after.headers["ETag"] != before.headers["ETag"]
    assert signing.verify(scan(after.data), expect="place").fields == {"place_id": place.id}
    assert cached(place.id, "screen", "png") == 1  # the old poster is gone
    client.get(url)
    assert draws == ["screen", "screen"]


def test_sizes_are_cached_apart(client, session, draws):
    place = make_place()
    for size in ("screen", "print", "screen", "print"):
        client.get(f"/api/places/{place.id}/poster.png?size={size}")
    assert draws == ["screen", "print"]


def test_a_new_signing_key_redraws_the_poster(client, app, session, draws):
    place = make_place()
    url = f"/api/places/{place.id}/poster.png"
    old = client.get(url)
    ring = keyring()
    kid = ring.rotate()
    try:
        new = client.get(url)
        assert draws == ["screen", "screen"]
        assert signing.verify(scan(new.data), expect="place").kid == kid != signing.verify(scan(old.data),
                                                                                            expect="place").kid
    finally:
        ring.retire(kid)


@pytest.fixture
def no_fonts(app, monkeypatch):
    monkeypatch.setitem(app.config, "POSTER_FONT", "/nonexistent/NotoSansCJK-Regular.ttc")
    monkeypatch.setattr(poster, "FONT_CANDIDATES", (("/nonexistent/a.ttc", "/nonexistent/b.ttc"),))


def test_no_chinese_font_is_a_503_not_tofu(client, session, no_fonts, posters_dir):
    place = make_place()
    response = client.get(f"/api/places/{place.id}/poster.png")
    assert response.status_code == 503
    assert response.get_json() == {"code": "font_missing", "details": {},
                                   "message": "服务器缺少中文字体，无法生成海报，请安装 fonts-noto-cjk"}
    assert cached(place.id, "screen", "png") == 0


@pytest.mark.skipif(not Path(DEJAVU).exists(), reason="needs fonts-dejavu-core")
def test_a_font_without_chinese_glyphs_is_refused(client, session, no_fonts, app, monkeypatch):
    monkeypatch.setitem(app.config, "POSTER_FONT", DEJAVU)
    place = make_place()
    assert client.get(f"/api/places/{place.id}/poster.png").get_json()["code"] == "font_missing"


def test_a_poster_already_drawn_is_served_without_fonts(client, session, app, monkeypatch):
    place = make_place()
    url = f"/api/places/{place.id}/poster.png"
    first = client.get(url)
    monkeypatch.setitem(app.config, "POSTER_FONT", "/nonexistent/font.ttc")
    monkeypatch.setattr(poster, "FONT_CANDIDATES", ())
    assert client.get(url).data == first.data


def test_configured_font_is_used(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "POSTER_FONT", NOTO)
    monkeypatch.setattr(poster, "FONT_CANDIDATES", ())
    fonts = poster.load_fonts()
    assert fonts.regular_path == fonts.bold_path == NOTO
    assert "SC" in fonts.regular(20).getname()[0]  # the Simplified Chinese face of the collection


def test_the_chosen_font_draws_chinese_glyphs(app, session):
    fonts = poster.load_fonts()
    font = fonts.bold(60)
    notdef = font.getmask(poster.NOTDEF_PROBE)
    for char in "创贷之家任城驿站" + poster.PROGRAMME + poster.HINT_LEAD:
        left, _top, right, _bottom = font.getbbox(char)
        assert right - left > 0, char
        mask = font.getmask(char)
        assert (mask.size, bytes(mask)) != (notdef.size, bytes(notdef)), f"{char} is drawn as tofu"


def test_text_the_font_cannot_draw_is_dropped(app, session):
    fonts = poster.load_fonts()
    assert fonts.clean("喵小创🐱空间\n 二号\t馆") == "喵小创空间 二号 馆"


@pytest.mark.parametrize("name", ["创" * 128, "Jining Startup Incubation Centre " * 4, "创业" * 20 + "Hub"])
def test_long_names_wrap_inside_the_column(app, session, name):
    fonts = poster.load_fonts()
    width = 640
    font, lines = poster._fit(name, fonts.bold, [60, 48, 38], width, 3, balance=True)
    assert 1 <= len(lines) <= 3
    assert all(font.getlength(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "").rstrip("…") in name.replace(" ", "")


def test_closing_punctuation_never_starts_a_line(app, session):
    font = poster.load_fonts().regular(20)
    lines = poster._wrap("创业服务中心（一楼）。地址见下", font, 20 * 6)
    assert not any(line[0] in poster.NO_LINE_START for line in lines)


def test_a_poster_matches_its_openapi_description(app, client, session):
    """The fuzz test rarely meets a real place; here the documented 200 (image/png) is checked."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    place = make_place()
    session.commit()
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app)["/api/places/{place_id}/poster.png"]["GET"]
    for size in ("screen", "print"):
        case = operation.Case(path_parameters={"place_id": place.id}, query={"size": size})
        response = case.call_and_validate(checks=[not_a_server_error, content_type_conformance,
                                                  response_schema_conformance])
        assert response.status_code == 200 and response.headers["content-type"] == ["image/png"]
