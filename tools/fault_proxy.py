"""A dependency made really unavailable: a TCP proxy that can be stopped or hung.

``TcpProxy`` forwards a free loopback port to a real service (PostgreSQL, Redis,
the action server, an HTTP API). Code under test or benchmark is pointed at the
proxy, then:

- ``stop()``: the listener and every open connection close, new connections are
  refused (the service is down);
- ``hang()``: connections are accepted and bytes are read, but nothing comes
  back, on new and already open connections alike (the service is hung);
- ``start()``: forwarding again (the service is back), on the same port.

Used by the fault tests (``tests/faults.py``) and ``benchmarks/fault_matrix.py``.
Standard library only; threads, so it serves sync and async clients alike.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading

_POLL_S = 0.05


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port``.

    Args:
        target_port: The real service's port.
        target_host: The real service's host.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._running = threading.Event()
        self._hung = threading.Event()
        self._threads: list[threading.Thread] = []

    def url_for(self, scheme: str, path: str = "", user: str = "") -> str:
        """A URL of the proxied service, e.g. ``url_for("redis", "/0")``."""
        at = f"{user}@" if user else ""
        return f"{scheme}://{at}127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        """Forwards (again), on the same port."""
        self._hung.clear()
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._running.set()
        self._spawn(self._accept, listener)

    def hang(self) -> None:
        """Accepts and reads, never answers."""
        self.start()
        self._hung.set()

    def stop(self) -> None:
        """Refuses new connections and closes the open ones."""
        self._running.clear()
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads = [t for t in self._threads if t.is_alive()]

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if not self._running.is_set():
                return False
            self._sockets.add(sock)
            return True

    def _accept(self, listener: socket.socket) -> None:
        while self._running.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], _POLL_S)
                if not ready:
                    continue
                client, _ = listener.accept()
            except OSError:
                return
            if not self._track(client):
                _close(client)
                return
            if self._hung.is_set():
                self._spawn(self._pump, client, None)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            if not self._track(upstream):
                _close(client)
                _close(upstream)
                return
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket | None) -> None:
        while self._running.is_set():
            try:
                ready, _, _ = select.select([source], [], [], _POLL_S)
                if not ready:
                    continue
                data = source.recv(65536)
            except (OSError, ValueError):
                break
            if not data:
                break
            if sink is None or self._hung.is_set():
                continue  # hung: swallow everything
            try:
                sink.sendall(data)
            except OSError:
                break
        _close(source)
        if sink is not None:
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
