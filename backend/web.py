"""Serves the built miniapp (static/) at / with a single-page fallback, and the API docs' assets."""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, current_app, send_from_directory
from werkzeug.exceptions import NotFound

bp = Blueprint("web", __name__)

NO_CACHE = {"index.html", "sw.js", "manifest.webmanifest"}


@bp.get("/api/docs/assets/<path:filename>")
def docs_assets(filename):
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def miniapp(path):
    if path.startswith("api/") or path == "api":
        raise NotFound()
    static_dir = Path(current_app.config["STATIC_DIR"])
    target = (static_dir / path) if path else None
    if target is not None and target.is_file():
        name = target.name
        cache = 0 if name in NO_CACHE else (31536000 if "/assets/" in f"/{path}" else 3600)
        response = send_from_directory(static_dir, path, max_age=cache)
        if name == "sw.js":
            response.headers["Service-Worker-Allowed"] = "/"
        return response
    if not (static_dir / "index.html").is_file():
        return ("<h1>前端尚未构建</h1><p>请先运行 <code>./dev.sh run</code>（会自动构建 miniapp）。</p>", 503,
                {"Content-Type": "text/html; charset=utf-8"})
    response = send_from_directory(static_dir, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
