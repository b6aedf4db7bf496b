"""The operator's erase and purge commands, against real stores.

A customer's data is spread over the marketing store and its outbox, Rasa's SQL
tracker store (both in the real PostgreSQL, and in SQLite files) and the
channel's keys in the real Redis and its retry queue; after ``erase`` nothing of
them remains, while another customer keeps everything.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from marketing.leads import Lead, seal
from marketing.outbox import MarketingOutbox, Write
from marketing.store import IMPRESSION, Interaction, MarketingStore, utc_now
from outbox.queue import DurableQueue
from privacy.cipher import DataCipher, generate_key
from tools.personal_data import main
from wechat.erasure import user_prefix
from wechat.redis_store import RedisStore

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "wxpersonaldata001"


def _interaction(user: str, days_ago: float = 0) -> Interaction:
    return Interaction(
        user_id=user,
        item_id="p1",
        event=IMPRESSION,
        variant="hybrid",
        campaign=None,
        tracking_id=uuid.uuid4().hex,
        created_at=utc_now() - timedelta(days=days_ago),
    )


@dataclass(frozen=True)
class Databases:
    """The marketing store's URL and the tracker store's endpoint config."""

    marketing_url: str
    tracker_store: dict[str, str]

    def trackers(self) -> SQLTrackerStore:
        """Rasa's SQL tracker store, as ``endpoints.yml`` makes it."""
        domain = Domain.load(str(ROOT / "domain.yml"))
        options = {k: v for k, v in self.tracker_store.items() if k != "type"}
        host = options.pop("url", None)
        return SQLTrackerStore(domain, host=host, **options)


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    if request.param == "sqlite":
        return Databases(
            f"sqlite:///{tmp_path / 'm.db'}",
            {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "trackers.db")},
        )
    name = request.getfixturevalue("postgres_database")
    return Databases(
        f"postgresql://postgres@127.0.0.1:5432/{name}",
        {"type": "SQL", "dialect": "postgresql", "url": "127.0.0.1",
         "port": "5432", "username": "postgres", "db": name},
    )  # fmt: skip


@pytest.fixture
def environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, databases: Databases
) -> DataCipher:
    key = generate_key()
    monkeypatch.setenv("AURORA_DATABASE_URL", databases.marketing_url)
    monkeypatch.setenv("AURORA_OUTBOX_PATH", str(tmp_path / "outbox.db"))
    monkeypatch.setenv("AURORA_DATA_KEY", key)
    monkeypatch.setenv("AURORA_ENDPOINTS", str(tmp_path / "none.yml"))
    return DataCipher(key)


def _fill(
    tmp_path: Path, url: str, cipher: DataCipher, user: str, trackers: SQLTrackerStore
) -> None:
    store = MarketingStore.from_url(url, cipher=cipher)
    lead = Lead(user, "王", "13812345678", True, True, 0.5)
    store.add_lead(seal(lead, cipher, utc_now()))
    store.log([_interaction(user)])
    store.opt_out(user)
    store.join_campaign(user, "c1")
    store.engine.dispose()
    MarketingOutbox(DurableQueue(tmp_path / "outbox.db")).put(
        Write.opt_out(user, utc_now())
    )
    DurableQueue(tmp_path / "retry.db").put("wechat_cs", {"touser": user}, user_id=user)
    tracker = DialogueStateTracker.from_events(user, [UserUttered("你好")])
    asyncio.run(trackers.save(tracker))


def test_erase_leaves_nothing_of_the_customer_anywhere(
    tmp_path: Path, environment: DataCipher, databases: Databases, redis_url: str
) -> None:
    leaver, stayer = f"o_leaver_{uuid.uuid4().hex}", f"o_stayer_{uuid.uuid4().hex}"
    trackers = databases.trackers()
    for user in (leaver, stayer):
        _fill(tmp_path, databases.marketing_url, environment, user, trackers)
    redis = RedisStore.from_url(redis_url)

    async def set_keys() -> None:
        for user in (leaver, stayer):
            await redis.set(user_prefix(APP_ID, user) + "menu", "{}", 60)
        await redis.close()

    asyncio.run(set_keys())
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"tracker_store": databases.tracker_store}), encoding="utf-8"
    )
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        yaml.safe_dump(
            {
                "channels.wechat.WeChatInput": {
                    "token": "t",
                    "app_id": APP_ID,
                    "app_secret": "s",
                    "store": redis_url,
                    "retry_queue_path": str(tmp_path / "retry.db"),
                }
            }
        ),
        encoding="utf-8",
    )
    code = main(
        ["erase", leaver, "--yes", "--endpoints", str(endpoints),
         "--credentials", str(credentials), "--domain", str(ROOT / "domain.yml")]
    )  # fmt: skip
    assert code == 0
    store = MarketingStore.from_url(databases.marketing_url, cipher=environment)
    assert store.erase_user(leaver) == {name: 0 for name in store.erase_user(leaver)}
    assert not store.history(leaver) and not store.leads(leaver)
    assert store.history(stayer) and store.leads(stayer) and store.is_opted_out(stayer)
    store.engine.dispose()
    assert DurableQueue(tmp_path / "outbox.db").erase_user(leaver) == 0
    assert DurableQueue(tmp_path / "retry.db").erase_user(leaver) == 0
    assert DurableQueue(tmp_path / "outbox.db").pending() == 1  # the stayer's

    async def remaining() -> tuple[object, object, str | None, str | None]:
        reader = RedisStore.from_url(redis_url)
        kept = await reader.get(user_prefix(APP_ID, stayer) + "menu")
        gone = await reader.get(user_prefix(APP_ID, leaver) + "menu")
        await reader.delete_prefix(user_prefix(APP_ID, stayer))
        await reader.close()
        return (
            await trackers.retrieve(leaver),
            await trackers.retrieve(stayer),
            gone,
            kept,
        )

    left, other, gone, kept = asyncio.run(remaining())
    trackers.engine.dispose()
    assert left is None and gone is None
    assert other is not None and kept == "{}"


def test_purge_deletes_only_events_past_retention(
    environment: DataCipher,
    databases: Databases,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = MarketingStore.from_url(databases.marketing_url)
    store.log([_interaction("o1", days_ago=400), _interaction("o1", days_ago=10)])
    assert main(["purge", "--days", "365"]) == 0
    assert len(store.history("o1")) == 1
    assert '"interactions": 1' in capsys.readouterr().out
    store.engine.dispose()


def test_erase_reports_a_part_that_failed_and_runs_the_rest(
    tmp_path: Path, environment: DataCipher, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "absent" / "endpoints.yml"
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("{}", encoding="utf-8")
    code = main(
        ["erase", "o_x", "--yes", "--endpoints", str(missing),
         "--credentials", str(credentials), "--domain", str(tmp_path / "no.yml")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1
    assert '"conversation": {' in out and '"error"' in out
    assert '"marketing": {' in out and '"leads": 0' in out
