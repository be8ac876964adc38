"""The pages and bundles: the agent desk, the supervisors' wallboard, the widget script and the
demo shop."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from relais.core.errors import NotFound
from relais.identity.tokens import issue_site_identity
from relais.runtime import Runtime

PAGES = Path(__file__).parent / "pages"
DIST = Path(__file__).parent / "static" / "dist"
DEMO_KEY_ID = "demo-shop"

router = APIRouter(include_in_schema=False)


def _page(name: str) -> str:
    path = PAGES / name
    if not path.is_file():
        raise NotFound("No such page.")
    return path.read_text(encoding="utf-8")


def _bundle(name: str) -> FileResponse:
    path = DIST / name
    if not path.is_file():
        raise NotFound(f"{name} is not built: run `make demo` (or `npm run build` in frontend/).")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/demo/shop")


@router.get("/widget.js")
async def widget_js() -> FileResponse:
    response = _bundle("widget.js")
    # Any allowed site loads this script; it carries no secret.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@router.get("/static/dist/{name}")
async def static_bundle(name: str) -> Response:
    if "/" in name or name.startswith("."):
        raise NotFound("No such file.")
    if name.endswith(".map"):
        path = DIST / name
        if not path.is_file():
            raise NotFound("No such file.")
        return FileResponse(path, media_type="application/json")
    return _bundle(name)


@router.get("/desk")
async def desk(request: Request) -> HTMLResponse:
    """The agent desk, in English, or French with ``?lang=fr``."""
    text = _page("desk.html")
    if request.query_params.get("lang") == "fr":
        text = text.replace('<html lang="en">', '<html lang="fr">', 1)
    return HTMLResponse(text)


@router.get("/supervisor")
async def supervisor() -> HTMLResponse:
    """The supervisors' wallboard; the page itself asks for a supervisor's session."""
    return HTMLResponse(_page("supervisor.html"))


@router.get("/healthz")
async def healthz(request: Request) -> dict[str, object]:
    """Liveness, with the process's load: connections and the longest event-loop stalls
    (since start, and within the last minute)."""
    runtime: Runtime = request.app.state.runtime
    monitor = runtime.loop_monitor
    figures = {
        "status": "ok",
        "connections": runtime.gateway.connection_count,
        "loop_stall_max_ms": round(monitor.max_lag_s * 1000, 1),
        "loop_stall_recent_max_ms": round(monitor.recent_max_s() * 1000, 1),
    }
    return figures


# page -> (title, the file with the page's main content, set in shop-layout.html)
_SHOP_PAGES = {
    "": ("Shop", "shop.html"),
    "cart": ("Cart", "shop-cart.html"),
    "checkout": ("Checkout", "shop-checkout.html"),
}


@router.get("/demo/shop")
@router.get("/demo/shop/{page}")
async def shop(request: Request, page: str = "") -> HTMLResponse:
    """The sample shop. `?customer=ID` plays a logged-in customer: the shop's server signs
    the customer's identity for the widget, as a real site would."""
    if page not in _SHOP_PAGES:
        raise NotFound("No such page.")
    runtime: Runtime = request.app.state.runtime
    title, content = _SHOP_PAGES[page]
    text = _page("shop-layout.html").replace("{{TITLE}}", title)
    text = text.replace("{{CONTENT}}", _page(content))
    attr = ""
    customer = request.query_params.get("customer")
    secret = runtime.settings.widget.identity_keys.get(DEMO_KEY_ID)
    if customer and secret:
        token = issue_site_identity(
            secret,
            DEMO_KEY_ID,
            f"shop-{customer}",
            email=f"{customer}@example.com",
            name=customer.replace("-", " ").title(),
        )
        attr = f'data-identity="{html.escape(token)}"'
    lang = request.query_params.get("lang")
    if lang in ("en", "fr"):
        text = text.replace('<html lang="en">', f'<html lang="{lang}">', 1)
    return HTMLResponse(text.replace("{{IDENTITY_ATTR}}", attr))
