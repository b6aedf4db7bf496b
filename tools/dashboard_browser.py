"""The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.

Playwright drives the system's ``/usr/bin/chromium`` (``apt-get install
chromium``; ``make browser`` does it), it never downloads a browser. The admin
server runs in a thread with its own event loop on a free loopback port
(:class:`AdminServerThread`). Used by the browser test and ``make report``'s
screenshot (:mod:`tools.dashboard_screenshot`).
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path(os.environ.get("AURORA_CHROMIUM", "/usr/bin/chromium"))
START_TIMEOUT_S = 30.0


def chromium_missing() -> str | None:
    """Why the browser cannot run here (what to install), or None when it can."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: run `make setup`"
    if not CHROMIUM.is_file():
        return (
            f"{CHROMIUM} is missing: run `make browser` (as root it runs "
            "`apt-get install -y chromium`), or set AURORA_CHROMIUM to a chromium"
        )
    return None


def launch(playwright: Playwright) -> Browser:
    """Debian's chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)


def log_in(page: Page, base_url: str, token: str) -> None:
    """Opens the dashboard through its login form, as a person would."""
    page.goto(f"{base_url}/")
    page.fill("#token", token)
    page.click("#login-submit")
    page.wait_for_selector("#funnel")


class AdminServerThread:
    """An aiohttp application served on ``127.0.0.1`` from a background thread.

    A context manager: entering starts it (``base_url`` is then set), leaving
    stops it.

    Args:
        app: The application (the admin server's).
    """

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = web.AppRunner(app)
        self.base_url = ""

    def __enter__(self) -> AdminServerThread:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        port = future.result(START_TIMEOUT_S)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def _start(self) -> int:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port: int = self._runner.addresses[0][1]
        return port

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        future.result(START_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=START_TIMEOUT_S)
        self._loop.close()
