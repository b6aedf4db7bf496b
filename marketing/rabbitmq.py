"""Where Rasa's event stream is: RabbitMQ's address and queue, defaults in one place.

The same ``RABBITMQ_*`` variables as the ``pika`` event broker of
``endpoints.yml``, so the consumer reads the queue Rasa publishes to:

| variable | default |
| --- | --- |
| ``RABBITMQ_HOST`` | ``127.0.0.1`` (or a whole ``amqp://`` / ``amqps://`` URL) |
| ``RABBITMQ_PORT`` | ``5672`` |
| ``RABBITMQ_USER`` | ``guest`` |
| ``RABBITMQ_PASSWORD`` | ``guest`` |
| ``RABBITMQ_QUEUE`` | ``aurora_events`` |

Rasa's ``PikaEventBroker`` publishes to the fanout exchange :data:`EXCHANGE`
bound to the queue. No Rasa.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5672
DEFAULT_USER, DEFAULT_PASSWORD = "guest", "guest"
DEFAULT_QUEUE = "aurora_events"
# rasa.core.brokers.pika.RABBITMQ_EXCHANGE: where Rasa publishes every event.
EXCHANGE = "rasa-exchange"


def amqp_url(environ: Mapping[str, str]) -> str:
    """The broker's URL from ``RABBITMQ_*`` (as Rasa's pika broker reads them).

    A ``RABBITMQ_HOST`` that is a URL is taken as it is, with the user and
    password added when it names none.
    """
    host = environ.get("RABBITMQ_HOST") or DEFAULT_HOST
    user = quote(environ.get("RABBITMQ_USER") or DEFAULT_USER, safe="")
    password = quote(environ.get("RABBITMQ_PASSWORD") or DEFAULT_PASSWORD, safe="")
    port = environ.get("RABBITMQ_PORT") or str(DEFAULT_PORT)
    if host.startswith(("amqp://", "amqps://")):
        parts = urlsplit(host)
        if "@" in parts.netloc:
            return host
        netloc = f"{user}:{password}@{parts.netloc}"
        if parts.port is None:
            netloc += f":{port}"
        return urlunsplit(parts._replace(netloc=netloc))
    return f"amqp://{user}:{password}@{host}:{port}/"


def queue_name(environ: Mapping[str, str]) -> str:
    """The queue Rasa publishes to (``RABBITMQ_QUEUE``)."""
    return environ.get("RABBITMQ_QUEUE") or DEFAULT_QUEUE


def masked(url: str) -> str:
    """``url`` without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":****@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
