"""Printable QR posters for places: a PNG (phone screen or A4 at 300 dpi) or an A4 PDF, branded by
the place's kind (创贷之家 station, 喵小创 space, street, market), with the place's signed code as a
URL under the public base URL (backend/core/urls.py).

The code carries no validity window (posters stay on the wall); WeChat's own scanner opens the
URL.  Drawing is slow (the A4 print size especially), so a poster is drawn only by the poster
endpoints, once per (place, drawn fields, URL, signing key, size, format) and app process, and kept
in the process's memory (backend/core/memo.py), never on disk; any edit of the place, another base
URL or a key rotation gives a new key, which is also the response's ETag (a revalidation draws nothing).
The PDF is the A4 PNG placed on one A4 page by Pillow (no other PDF library: the page is one image).
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import re
import threading
from dataclasses import asdict, dataclass

import qrcode
from flask import current_app
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q

from backend.core import codes, memo, signing
from backend.core.codes import CodeType
from backend.core.errors import DomainError
from backend.core.keys import keyring
from backend.core.regions import DISTRICTS
from backend.core.urls import public_base_url
from backend.places.enums import KIND_LABELS, PlaceKind

log = logging.getLogger(__name__)

LAYOUT_VERSION = 2  # bump when the drawing changes, so cached posters are redrawn
SIZES = {"screen": (750, 1334), "print": (2480, 3508)}  # phone screen; A4 at 300 dpi
FORMATS = ("png", "pdf")
PRINT_DPI = 300
PROGRAMME = "创业齐鲁"
HINT_LEAD = "微信扫一扫，"


@dataclass(frozen=True)
class Brand:
    title: str  # the band's big line
    line: str  # under it
    instruction: str  # after 微信扫一扫，
    colour: tuple[int, int, int]
    light: tuple[int, int, int]  # the kind pill's background
    on_colour: tuple[int, int, int]  # the band's small line


# One look per kind (WeUI palette); the CJK middle dot is full width: no spaces around it.
BRANDS = {
    PlaceKind.loan_station: Brand("创贷之家", "创业担保贷款咨询·政策解读·申请指导", "登记到访·贷款咨询",
                                  (214, 64, 53), (252, 234, 232), (255, 226, 222)),
    PlaceKind.space: Brand("喵小创·创业陪跑空间", "沙龙·讲堂·路演·导师对接", "登记到访·活动报名",
                           (7, 193, 96), (230, 248, 238), (220, 246, 232)),
    PlaceKind.street: Brand("创业街区", "入驻指导·政策咨询·赋能中心", "登记到访·政策咨询",
                            (16, 104, 210), (229, 240, 252), (214, 232, 252)),
    PlaceKind.market: Brand("创业市场", "摊位申请·经营指导·赋能中心", "登记到访·经营指导",
                            (222, 120, 20), (253, 240, 226), (255, 236, 214)),
}
BRAND_BY_LABEL = {KIND_LABELS[kind]: brand for kind, brand in BRANDS.items()}

# WeChat / WeUI colours
WHITE = (255, 255, 255)
TEXT = (25, 25, 25)  # #191919
TEXT_2 = (128, 128, 128)
LINE = (229, 229, 229)

# (regular, bold) in the order tried; a .ttc collection is searched for its Simplified Chinese face
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
     "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Bold.otf"),
    ("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
FONT_PROBE = PROGRAMME + "喵小创创贷之家微信扫一扫登记到访政策咨询贷款咨询地址开放时间联系电话场所编号"
NOTDEF_PROBE = "\U0010fffd"  # a private-use code point no font maps: renders as the .notdef glyph

_draw_lock = threading.Lock()


# --- what goes on the poster ------------------------------------------------------------------

@dataclass(frozen=True)
class Content:
    place_id: int
    name: str
    kind_label: str
    district_label: str
    address: str
    opening_hours: str
    phone: str = ""


def place_code_url(place) -> str:
    """The place's signed code as the URL printed on its poster (no validity window)."""
    payload = signing.sign(CodeType.place, {"place_id": place.id})
    return codes.to_url(public_base_url(), payload)


def content_of(place) -> Content:
    return Content(place_id=place.id, name=place.name, kind_label=KIND_LABELS[place.kind],
                   district_label=DISTRICTS.get(place.district, ""),
                   address=place.address or "", opening_hours=place.opening_hours or "", phone=place.phone or "")


def brand_of(content: Content) -> Brand:
    return BRAND_BY_LABEL.get(content.kind_label, BRANDS[PlaceKind.space])


def version(place, *, size: str) -> str:
    """What the poster of this size depends on, hashed: the cache key and the ETag."""
    content = content_of(place)
    return hashlib.sha256(json.dumps(
        {"v": LAYOUT_VERSION, "content": asdict(content), "url": place_code_url(place),
         "kid": keyring().signer()[0], "size": size,
         "updated_at": place.updated_at.isoformat() if place.updated_at else None},
        sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def render(place, *, size: str, fmt: str = "png") -> bytes:
    """The poster (PNG, or PDF: one A4 page), from the process's cache when this exact poster was drawn."""
    if size not in SIZES or fmt not in FORMATS:
        raise ValueError(f"unknown poster {size!r} {fmt!r}")
    digest = version(place, size=size)
    cache = memo.renders()
    key = ("poster", place.id, size, digest, fmt)
    data = cache.get(key)
    if data is not None:
        return data
    with _draw_lock:  # one draw at a time per process; a concurrent request waits, then reads the cache
        data = cache.get(key)
        if data is None:
            png_key = ("poster", place.id, size, digest, "png")
            png = cache.get(png_key)
            if png is None:
                png = draw(content_of(place), url=place_code_url(place), size=size, fonts=load_fonts())
                # this place's older posters of the size (edited place, rotated key, other base URL)
                cache.discard(lambda k: k[:3] == ("poster", place.id, size) and k[3] != digest)
                cache.put(png_key, png)
            data = png if fmt == "png" else to_pdf(png)
            cache.put(key, data)
    return data


def to_pdf(png: bytes) -> bytes:
    """One A4 page holding the 300-dpi print poster (2480×3508 px at 300 dpi is 210×297 mm)."""
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").save(out, "PDF", resolution=PRINT_DPI, title="场所海报", author=PROGRAMME)
    return out.getvalue()


# --- fonts -------------------------------------------------------------------------------------

class Fonts:
    """A regular and a bold CJK face, sized on demand, with a check for glyphs the face lacks."""

    def __init__(self, regular: str, bold: str):
        self.regular_path, self.bold_path = regular, bold
        self.regular_index, self.bold_index = _chinese_face(regular), _chinese_face(bold)
        self._faces: dict[tuple[bool, int], ImageFont.FreeTypeFont] = {}
        self._covered: dict[str, bool] = {}
        self._probe = self.regular(48)
        self._notdef = _glyph(self._probe, NOTDEF_PROBE)

    def _face(self, bold: bool, px: int) -> ImageFont.FreeTypeFont:
        key = (bold, max(int(px), 1))
        if key not in self._faces:
            path, index = (self.bold_path, self.bold_index) if bold else (self.regular_path, self.regular_index)
            self._faces[key] = ImageFont.truetype(path, key[1], index=index)
        return self._faces[key]

    def regular(self, px: int) -> ImageFont.FreeTypeFont:
        return self._face(False, px)

    def bold(self, px: int) -> ImageFont.FreeTypeFont:
        return self._face(True, px)

    def covers(self, char: str) -> bool:
        if char not in self._covered:
            self._covered[char] = char.isspace() or _glyph(self._probe, char) != self._notdef
        return self._covered[char]

    def clean(self, text: str) -> str:
        """User text made drawable: whitespace runs become one space, glyphs the font lacks are
        dropped (a poster never shows tofu boxes)."""
        text = re.sub(r"\s+", " ", text).strip()
        return "".join(c for c in text if self.covers(c))


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> tuple:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def _chinese_face(path: str) -> int:
    """In a font collection (.ttc) the Simplified Chinese face (Noto Sans CJK SC is index 2)."""
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if re.search(r"\bSC\b", family or "") and "Mono" not in family:
            return index
    return 0


def load_fonts() -> Fonts:
    return _find_fonts(current_app.config.get("POSTER_FONT") or "", FONT_CANDIDATES)


@functools.lru_cache(maxsize=8)
def _find_fonts(configured: str, candidates: tuple[tuple[str, str], ...]) -> Fonts:
    """POSTER_FONT if set (one file for both weights), else the first installed candidate that
    really has Chinese glyphs.  Failures are not cached: installing a font fixes it at once."""
    options = ([(configured, configured)] if configured else []) + list(candidates)
    for regular, bold in options:
        if not os.path.isfile(regular):
            if regular == configured:
                log.warning("POSTER_FONT %s does not exist; searching the usual font paths", configured)
            continue
        try:
            fonts = Fonts(regular, bold if os.path.isfile(bold) else regular)
        except OSError:
            log.warning("poster font %s cannot be loaded", regular)
            continue
        if all(fonts.covers(c) for c in FONT_PROBE):
            return fonts
        log.warning("poster font %s has no Chinese glyphs", regular)
    raise DomainError("服务器缺少中文字体，无法生成海报，请安装 fonts-noto-cjk", code="font_missing", status=503)


# --- drawing -----------------------------------------------------------------------------------

NO_LINE_START = set("，。、；：？！）》」』”’·…,.;:?!)")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*|.", re.S)


def _wrap(text: str, font, width: float) -> list[str]:
    """Greedy line breaking: CJK breaks between any two characters, Latin words stay whole
    (unless a word alone is too wide), closing punctuation never starts a line."""
    lines, line = [], ""
    tokens = WORD.findall(text)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if font.getlength(line + token) <= width or not line:
            if not line and font.getlength(token) > width and len(token) > 1:  # an over-long word: split it
                tokens[i:i + 1] = list(token)
                continue
            line += token
            i += 1
            continue
        if token[0] in NO_LINE_START and len(line) > 1:  # carry the last character over with it
            lines.append(line[:-1].rstrip())
            line = line[-1]
        else:
            lines.append(line.rstrip())
            line = ""
        line = line.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _balanced(text: str, font, width: float) -> list[str]:
    """Wrapped lines of even length: the narrowest width that needs no more lines than ``width``
    does (no single orphan character on the last line of a title)."""
    lines = _wrap(text, font, width)
    if len(lines) < 2:
        return lines
    head, dot, tail = text.partition("·")
    if dot and head and tail:  # "创贷之家·任城驿站": break after the separator when that costs no extra line
        parts = _wrap(head + dot, font, width) + _wrap(tail, font, width)
        if len(parts) <= len(lines):
            return parts
    low, high = width / len(lines), width
    while high - low > 1:
        mid = (low + high) / 2
        if len(_wrap(text, font, mid)) <= len(lines):
            high = mid
        else:
            low = mid
    return _wrap(text, font, high)


def _fit(text: str, make_font, sizes, width: float, max_lines: int, *, balance: bool = False):
    """The largest size whose wrapping fits in ``max_lines``; at the smallest size the last line
    ends in an ellipsis.  Returns (font, lines)."""
    for px in sizes:
        font = make_font(px)
        lines = _wrap(text, font, width)
        if len(lines) <= max_lines:
            return font, (_balanced(text, font, width) if balance else lines)
    lines = lines[:max_lines]
    last = lines[-1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    lines[-1] = last + "…"
    return font, lines


def _one_line(text: str, make_font, px: int, width: float, smallest: int):
    """A font size at which ``text`` fits on one line (shrinking down to ``smallest``)."""
    while px > smallest and make_font(px).getlength(text) > width:
        px -= 1
    return make_font(px)


def qr_image(url: str, side: int) -> Image.Image:
    """The QR code (error correction Q, 4-module quiet zone) scaled by a whole number of pixels per
    module, at most ``side`` pixels wide: crisp edges that scan from a phone or a print."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone
    n = len(matrix)
    image = Image.new("L", (n, n), 255)
    image.putdata([0 if cell else 255 for row in matrix for cell in row])
    scale = max(side // n, 1)
    return image.resize((n * scale, n * scale), Image.NEAREST)


def draw(content: Content, *, url: str, size: str, fonts: Fonts) -> bytes:
    """Draw the poster and encode it as PNG (slow: only ``render`` calls this)."""
    width, height = SIZES[size]
    u = min(width / 750, height / 1334)  # design unit: the layout is drawn for a 750×1334 phone screen
    margin = round(56 * u)
    column = width - 2 * margin
    image = Image.new("RGB", (width, height), WHITE)
    canvas = ImageDraw.Draw(image)

    brand = brand_of(content)
    name = fonts.clean(content.name) or "创业服务场所"
    address = fonts.clean(content.address)
    hours = fonts.clean(content.opening_hours)
    phone = fonts.clean(content.phone)

    # fixed blocks, measured first; the space left over is shared out between them
    band_h = round(210 * u)
    footer_h = round(92 * u)
    name_font, name_lines = _fit(name, fonts.bold, [round(p * u) for p in (60, 54, 48, 42, 38)], column, 3,
                                 balance=True)
    name_lh = round(name_font.size * 1.32)
    tag_font = fonts.regular(round(28 * u))
    tag_h = round(52 * u)
    hint_font = _one_line(HINT_LEAD + brand.instruction, fonts.bold, round(32 * u), column, round(22 * u))
    hint_h = round(hint_font.size * 1.4)
    info_font = fonts.regular(round(25 * u))
    info_lh = round(info_font.size * 1.5)
    label_w = max(info_font.getlength("开放时间"), info_font.getlength("地址")) + round(24 * u)
    info_rows = []
    for label, value in (("地址", address), ("开放时间", hours), ("联系电话", phone)):
        if value:
            info_rows.append((label, _fit(value, lambda px: info_font, [info_font.size], column - label_w, 2)[1]))
    info_h = sum(len(lines) for _label, lines in info_rows) * info_lh + max(len(info_rows) - 1, 0) * round(10 * u)

    gaps = [48, 18, 40, 26, 44, 36]  # minimum gaps in design units, top to bottom
    fixed = band_h + len(name_lines) * name_lh + tag_h + hint_h + info_h + footer_h + sum(round(g * u) for g in gaps)
    card_pad = round(10 * u)  # the QR's own quiet zone is most of the white around it
    qr_room = min(height - fixed, round(520 * u), column) - 2 * card_pad
    qr = qr_image(url, max(qr_room, 1))
    card = qr.width + 2 * card_pad
    spare = max(height - fixed - card, 0)
    weights = [3, 0, 2, 0, 2, 3]
    extra = [spare * w // sum(weights) for w in weights]

    # title band
    canvas.rectangle((0, 0, width, band_h), fill=brand.colour)
    brand_font = _one_line(brand.title, fonts.bold, round(56 * u), column, round(30 * u))
    canvas.text((width / 2, band_h * 0.44), brand.title, font=brand_font, fill=WHITE, anchor="mm")
    sub_font = _one_line(brand.line, fonts.regular, round(26 * u), column, round(18 * u))
    canvas.text((width / 2, band_h * 0.76), brand.line, font=sub_font, fill=brand.on_colour, anchor="mm")

    y = band_h + round(gaps[0] * u) + extra[0]
    for line in name_lines:
        canvas.text((width / 2, y + name_lh / 2), line, font=name_font, fill=TEXT, anchor="mm")
        y += name_lh
    y += round(gaps[1] * u) + extra[1]

    # kind label as a green pill, district beside it
    kind = content.kind_label
    pad_x = round(20 * u)
    pill_w = tag_font.getlength(kind) + 2 * pad_x
    district = content.district_label
    gap = round(16 * u)
    total = pill_w + (gap + tag_font.getlength(district) if district else 0)
    x = (width - total) / 2
    canvas.rounded_rectangle((x, y, x + pill_w, y + tag_h), radius=tag_h / 2, fill=brand.light)
    canvas.text((x + pill_w / 2, y + tag_h / 2), kind, font=tag_font, fill=brand.colour, anchor="mm")
    if district:
        canvas.text((x + pill_w + gap, y + tag_h / 2), district, font=tag_font, fill=TEXT_2, anchor="lm")
    y += tag_h + round(gaps[2] * u) + extra[2]

    # the QR in a light card
    left = (width - card) // 2
    canvas.rounded_rectangle((left, y, left + card, y + card), radius=round(24 * u), fill=WHITE,
                             outline=LINE, width=max(round(2 * u), 1))
    image.paste(qr, (left + card_pad, y + card_pad))
    y += card + round(gaps[3] * u) + extra[3]

    # "微信扫一扫，…" with the first words in green
    lead, rest = HINT_LEAD, brand.instruction
    line_w = hint_font.getlength(lead + rest)
    x = (width - line_w) / 2
    canvas.text((x, y + hint_h / 2), lead, font=hint_font, fill=brand.colour, anchor="lm")
    canvas.text((x + hint_font.getlength(lead), y + hint_h / 2), rest, font=hint_font, fill=TEXT, anchor="lm")
    y += hint_h
    gap = round(gaps[4] * u) + extra[4]
    if info_rows:  # a hairline between the call to action and the small print
        canvas.line((margin, y + gap // 2, width - margin, y + gap // 2), fill=LINE, width=max(round(2 * u), 1))
    y += gap

    # address and opening hours, small
    for label, lines in info_rows:
        canvas.text((margin, y), label, font=info_font, fill=TEXT_2, anchor="la")
        for line in lines:
            canvas.text((margin + label_w, y), line, font=info_font, fill=TEXT, anchor="la")
            y += info_lh
        y += round(10 * u)

    # footer
    top = height - footer_h
    canvas.rectangle((0, height - round(10 * u), width, height), fill=brand.colour)
    foot_font = fonts.regular(round(22 * u))
    canvas.text((width / 2, top + (footer_h - round(10 * u)) / 2), f"{PROGRAMME}·{content.kind_label}　场所编号 {content.place_id}",
                font=foot_font, fill=TEXT_2, anchor="mm")

    out = io.BytesIO()
    image.save(out, "PNG", **({"dpi": (PRINT_DPI, PRINT_DPI)} if size == "print" else {}))
    return out.getvalue()
