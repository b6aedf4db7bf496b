"""A screenshot of the dashboard over the configured marketing store (``make report``).

Starts the admin server in this process on a free loopback port, over whatever
``AURORA_DATABASE_URL`` holds (campaign reports, segments, funnel, negative
share), logs in through the form in Debian's headless chromium and writes a
full-page PNG. The admin token is ``AURORA_ADMIN_TOKEN``, or a throwaway one when
it is unset: the server lives only as long as this command, on loopback.

Usage: ``python -m tools.dashboard_screenshot [--out results/dashboard.png]``
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from marketing.connection import LazyStore
from marketing.dashboard import store_dashboard
from marketing.settings import ROOT, SettingsError, load_settings
from privacy import masking
from servers.admin_server import make_app
from tools.dashboard_browser import AdminServerThread, chromium_missing, launch, log_in

DEFAULT_OUT = ROOT / "results" / "dashboard.png"
WIDTH, HEIGHT = 1200, 900


def screenshot(out: Path) -> None:
    """Writes the dashboard of the configured store as a PNG to ``out``.

    Raises:
        SettingsError: The settings are unusable.
        RuntimeError: Chromium or Playwright is missing (the message says what to do).
    """
    if reason := chromium_missing():
        raise RuntimeError(reason)
    from playwright.sync_api import sync_playwright

    settings = load_settings()
    token = settings.admin_token or secrets.token_urlsafe(32)
    store = LazyStore(settings.database_url)
    app = make_app(store_dashboard(settings, store), token)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with AdminServerThread(app) as server, sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                log_in(page, server.base_url, token)
                page.screenshot(path=str(out), full_page=True)
            finally:
                browser.close()
    finally:
        store.close()


def main(argv: list[str] | None = None) -> None:
    """Writes the screenshot; one clear line and status 1 when it cannot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    args = parser.parse_args(argv)
    masking.install()
    try:
        screenshot(args.out)
    except (SettingsError, RuntimeError) as e:
        sys.exit(f"dashboard screenshot: {e}")
    print(f"Dashboard screenshot: {args.out}")


if __name__ == "__main__":
    main()
