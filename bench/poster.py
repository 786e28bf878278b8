"""Poster benchmark: cold draw time per size, cached serve time through the app, QR decode check.

    .venv/bin/python bench/poster.py [--places 5] [--requests 200]

Runs on a throwaway SQLite file and instance folder; the last line is the one-line summary.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NAMES = ["喵小创·任城空间", "创业街区·古槐路", "创业市场·兖州夜市", "创贷之家·曲阜驿站", "创贷之家·邹城驿站",
         "喵小创·济宁高新区创业孵化基地第三分中心", "创业街区·历城区山大路", "创贷之家·钢城区艾山街道驿站"]
KINDS = ["space", "street", "market", "loan_station", "loan_station", "space", "street", "loan_station"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=5, help="places drawn cold, per size")
    parser.add_argument("--requests", type=int, default=200, help="cached requests timed")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.disable(logging.INFO)  # alembic configures its own INFO logging

    with tempfile.TemporaryDirectory(prefix="poster-bench-") as tmp:
        os.environ["INSTANCE_PATH"] = tmp
        import flask_migrate
        import zxingcpp
        from PIL import Image

        from backend import create_app
        from backend.core import signing
        from backend.extensions import db
        from backend.places import poster, service
        from backend.places.enums import PlaceKind

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "RATELIMIT_ENABLED": False})
        with app.app_context():
            flask_migrate.upgrade()
            places = [service.create(actor=None, data={
                "kind": PlaceKind(KINDS[i % len(KINDS)]), "name": NAMES[i % len(NAMES)] + (f"{i}" if i >= len(NAMES) else ""),
                "district": "370811", "address": "济宁市任城区古槐路 88 号", "opening_hours": "周一至周五 9:00-17:00"})
                for i in range(args.places + 1)]
            db.session.commit()
            ids = [p.id for p in places]

            started = time.perf_counter()
            poster.load_fonts()
            font_ms = (time.perf_counter() - started) * 1000

            cold = {}
            for size in ("screen", "print"):
                poster.render(places[0], size=size)  # warm-up: font faces at this size's pixel sizes
                times = []
                for place in places[1:]:
                    started = time.perf_counter()
                    poster.render(place, size=size)
                    times.append((time.perf_counter() - started) * 1000)
                cold[size] = statistics.median(times)
                print(f"cold {size:6} {poster.SIZES[size][0]}×{poster.SIZES[size][1]}: median {cold[size]:.0f} ms, "
                      f"min {min(times):.0f}, max {max(times):.0f} over {len(times)} places")
            started = time.perf_counter()
            for _ in range(args.requests):
                poster.render(places[1], size="print")
            render_ms = (time.perf_counter() - started) * 1000 / args.requests
            db.session.remove()

        client = app.test_client()
        url = f"/api/places/{ids[1]}/poster.png"
        assert client.get(url).status_code == 200  # warm the route itself
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        cached_ms = statistics.median(times)
        print(f"cached GET {url}: median {cached_ms:.2f} ms, p95 {sorted(times)[int(len(times) * .95) - 1]:.2f} ms "
              f"over {len(times)} requests; render() from the cache {render_ms:.2f} ms; font load once {font_ms:.0f} ms")

        failures = []
        with app.app_context():
            for place_id in ids[1:3]:
                for size in ("screen", "print"):
                    response = client.get(f"/api/places/{place_id}/poster.png?size={size}")
                    started = time.perf_counter()
                    found = zxingcpp.read_barcodes(Image.open(BytesIO(response.data)), formats=zxingcpp.BarcodeFormat.QRCode)
                    decode_ms = (time.perf_counter() - started) * 1000
                    try:
                        code = signing.verify(found[0].text, expect="place") if len(found) == 1 else None
                    except Exception as exc:  # noqa: BLE001 - reported below
                        code = exc
                    ok = getattr(code, "fields", None) == {"place_id": place_id}
                    print(f"decode place {place_id} {size:6}: {'ok' if ok else f'FAILED ({code!r})'} "
                          f"({len(response.data) // 1024} KiB, zxing {decode_ms:.0f} ms)")
                    if not ok:
                        failures.append((place_id, size))

    verdict = "decodes ok" if not failures else f"{len(failures)} FAILED to decode"
    print(f"poster: screen {cold['screen']:.0f} ms, print {cold['print']:.0f} ms cold, cached {cached_ms:.1f} ms, {verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
