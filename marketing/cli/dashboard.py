"""``aurora-marketing dashboard``: serves the admin server (dashboard and API).

The same server as ``python -m servers.admin_server``: loopback by default, every
route behind ``AURORA_ADMIN_TOKEN``, and it refuses to start without one.
"""

from __future__ import annotations

import click

from marketing.cli.context import CliContext, pass_cli


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface.")
@click.option("--port", type=int, default=5057, show_default=True, help="Port.")
@click.option(
    "--secure-cookie",
    is_flag=True,
    help="Mark the session cookie Secure (when served over HTTPS by a proxy).",
)
@pass_cli
def dashboard(cli: CliContext, host: str, port: int, secure_cookie: bool) -> None:
    """Serve the marketing dashboard and the admin JSON API.

    Open http://HOST:PORT/ and log in with AURORA_ADMIN_TOKEN (/copy reviews
    drafted copy); scripts call /api/campaigns, /api/segments, /api/funnel,
    /api/sentiment, /api/activity and /api/copy-drafts with
    "Authorization: Bearer <token>".
    """
    from aiohttp import web

    from catalog.errors import CatalogError
    from marketing.connection import LazyStore
    from marketing.copy_review import store_copy_review
    from marketing.dashboard import store_dashboard
    from servers.admin_auth import AdminTokenMissing
    from servers.admin_server import make_app

    settings = cli.settings
    store = LazyStore(settings.database_url)
    try:
        app = make_app(
            store_dashboard(settings, store),
            settings.admin_token,
            secure_cookie=secure_cookie,
            review=store_copy_review(store),
        )
    except (AdminTokenMissing, CatalogError) as e:
        raise click.ClickException(str(e)) from e
    web.run_app(app, host=host, port=port)
