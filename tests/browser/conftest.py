"""The workspace in a real browser: Debian's Chromium driven by Playwright, against gunicorn and the worker.

No browser is ever downloaded: Chromium is `/usr/bin/chromium` (`.ci/run` installs the Debian package); without it,
or without Playwright, these tests are skipped and say why. Screenshots go to `tests/browser/artifacts/` (ignored by
git); the accessibility check injects axe-core from node_modules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import stack  # noqa: F401 - the same real processes as the end-to-end tests

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

#: The service worker's own requests go through the context's routes (tests/browser/test_offline.py cuts them).
os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium", allow_module_level=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole run."""
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--disable-gpu"])
        yield launched
        launched.close()


def open_context(browser: Any, base: str, *, device: dict[str, Any], locale: str) -> Any:
    """A browser context (its own cookies) of a phone or a desktop in a language."""
    return browser.new_context(
        base_url=base,
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        bypass_csp=True,  # lets the test inject axe-core; the pages themselves never need it
        **device,
    )


def screenshot(page: Any, name: str) -> None:
    """Keep what the page looks like (`tests/browser/artifacts/<name>.png`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def check_accessibility(page: Any) -> None:
    """No serious or critical axe-core violation on the page as it is."""
    if not AXE.exists():
        pytest.fail(f"no {AXE.relative_to(ROOT)}: run npm install (make test does)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(
        [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]} for v in bad], indent=1
    )
