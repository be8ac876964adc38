"""The front-end's own tests (`frontend/src/**/*.test.ts`), each in a real Chromium.

Each test file is bundled by esbuild and opened alone on an empty page of a made-up origin:
REST and the WebSocket are answered inside the page (`src/shared/testing.ts`), so no server
runs. A test file registers its cases with `test(name, fn)`; here they run in order and every
failure is reported with its name."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need

FRONTEND = Path(__file__).parent.parent.parent / "frontend"
ESBUILD = FRONTEND / "node_modules" / ".bin" / "esbuild"
TEST_FILES = sorted(p.relative_to(FRONTEND / "src") for p in (FRONTEND / "src").rglob("*.test.ts"))
ORIGIN = "http://relais.test"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>unit</title></head>
<body></body></html>"""


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need(ESBUILD.exists(), "the front-end's packages are not installed (npm ci in frontend/)")
    out = tmp_path_factory.mktemp("unit-bundles")
    subprocess.run(
        [
            str(ESBUILD),
            *[f"src/{p}" for p in TEST_FILES],
            "--bundle",
            "--format=iife",
            "--target=es2020",
            "--outbase=src",
            f"--outdir={out}",
            "--log-level=warning",
        ],
        cwd=FRONTEND,
        check=True,
    )
    return out


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("test_file", TEST_FILES, ids=str)
def test_frontend_unit_file(page: Any, bundles: Path, test_file: Path) -> None:
    script = (bundles / test_file.with_suffix(".js")).read_text(encoding="utf-8")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        f"{ORIGIN}/",
        lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=PAGE),
    )
    page.route(
        f"{ORIGIN}/unit.js",
        lambda route: route.fulfill(content_type="text/javascript; charset=utf-8", body=script),
    )
    page.goto(f"{ORIGIN}/")
    page.add_script_tag(url=f"{ORIGIN}/unit.js")
    results = page.evaluate("() => window.relaisTests.run()")
    assert results, f"{test_file} registers no test"
    failures = [f"{r['name']}: {r['error']}" for r in results if not r["ok"]]
    assert not failures, "\n\n".join(failures)
    assert not errors, f"the page raised: {errors}"
