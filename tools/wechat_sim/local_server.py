"""Serve a Sanic app on a free loopback port inside the running event loop.

Tests and benchmarks run the channel in a real HTTP server next to their client,
in one process, without Sanic's worker machinery.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from sanic import Sanic


@dataclass
class LocalServer:
    """A started server and its base URL (``http://127.0.0.1:PORT``)."""

    server: Any
    url: str

    async def stop(self) -> None:
        """Runs the stop listeners and closes the socket."""
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()


async def serve_locally(app: Sanic) -> LocalServer:
    """Starts ``app`` on 127.0.0.1 with a free port; returns it once it serves."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server: Any = await app.create_server(
        sock=sock, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    return LocalServer(server=server, url=f"http://127.0.0.1:{port}")
