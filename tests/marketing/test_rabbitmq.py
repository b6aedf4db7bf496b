"""RabbitMQ's address from the same RABBITMQ_* variables as Rasa's pika broker."""

from __future__ import annotations

import pytest

from marketing.rabbitmq import DEFAULT_QUEUE, amqp_url, masked, queue_name


def test_defaults_are_the_local_broker_and_the_bots_queue() -> None:
    assert amqp_url({}) == "amqp://guest:guest@127.0.0.1:5672/"
    assert queue_name({}) == DEFAULT_QUEUE == "aurora_events"


def test_host_port_user_and_password_are_read_and_quoted() -> None:
    environ = {
        "RABBITMQ_HOST": "mq.internal",
        "RABBITMQ_PORT": "5673",
        "RABBITMQ_USER": "aurora",
        "RABBITMQ_PASSWORD": "p@ss/word",
        "RABBITMQ_QUEUE": "events",
    }
    assert amqp_url(environ) == "amqp://aurora:p%40ss%2Fword@mq.internal:5673/"
    assert queue_name(environ) == "events"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("amqps://mq.example/vhost", "amqps://u:p@mq.example:5671/vhost"),
        ("amqp://mq.example:5600/", "amqp://u:p@mq.example:5600/"),
        ("amqp://x:y@mq.example/", "amqp://x:y@mq.example/"),
    ],
)
def test_a_url_as_host_keeps_its_own_parts(host: str, expected: str) -> None:
    environ = {
        "RABBITMQ_HOST": host,
        "RABBITMQ_USER": "u",
        "RABBITMQ_PASSWORD": "p",
        "RABBITMQ_PORT": "5671",
    }
    assert amqp_url(environ) == expected


def test_logs_never_see_the_password() -> None:
    assert masked("amqp://u:s3cret@h:5672/") == "amqp://u:****@h:5672/"
    assert masked("amqp://h:5672/") == "amqp://h:5672/"
