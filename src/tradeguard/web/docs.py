"""The interactive API reference, served from local assets under a strict CSP."""

from __future__ import annotations

from importlib.resources import files
from importlib.util import find_spec
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from tradeguard.core.errors import StartupError
from tradeguard.web.routing import PUBLIC

router = APIRouter(dependencies=[PUBLIC])
OWN_STATIC = Path(str(files("tradeguard") / "web" / "static"))
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TradeGuard API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/web/docs.js"></script>
</body>
</html>
"""


@router.get("/docs", include_in_schema=False)
def docs_page() -> HTMLResponse:
    """The Swagger UI page; its script is a static file so no inline code is needed."""
    return HTMLResponse(DOCS_PAGE)


def swagger_ui_assets() -> Path:
    """Swagger UI 5 (OpenAPI 3.1) as shipped in the ``swagger-ui-py`` wheel.

    Only its static files are used; the package itself is never imported.
    """
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def mount_static(app: FastAPI) -> None:
    """Serve the Swagger UI bundle and TradeGuard's own assets under /static."""
    app.mount("/static/swagger-ui", StaticFiles(directory=swagger_ui_assets()), "swagger-ui")
    app.mount("/static/web", StaticFiles(directory=OWN_STATIC), "web-static")
