"""The fault proxy really takes a service down, hangs it and brings it back."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy
from sqlalchemy.exc import OperationalError

from tools.fault_proxy import TcpProxy


def test_redis_through_the_proxy_goes_down_hangs_and_comes_back(
    redis_proxy: TcpProxy,
) -> None:
    client = redis.Redis.from_url(
        redis_proxy.url_for("redis", "/0"),
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )
    assert client.ping()
    redis_proxy.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_proxy.hang()
    with pytest.raises(redis.TimeoutError):
        client.ping()
    redis_proxy.start()
    assert client.ping()
    client.close()


def test_postgres_through_the_proxy_goes_down_and_comes_back(
    pg_proxy: TcpProxy,
) -> None:
    url = pg_proxy.url_for("postgresql", "/test", user="postgres")
    engine = sqlalchemy.create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": 2}
    )
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("select 1")).scalar() == 1
    pg_proxy.stop()
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(sqlalchemy.text("select 1"))
    pg_proxy.start()
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("select 1")).scalar() == 1
    engine.dispose()
