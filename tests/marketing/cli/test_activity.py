"""``aurora-marketing activity``: the stream's counts per day, or per follower."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from click.testing import CliRunner, Result

from marketing.cli import main
from marketing.event_records import recorded_from_event, write_recorded
from marketing.store import MarketingStore, utc_now
from tests.marketing.rasa_events import action_event, user_event


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def seed(store: MarketingStore) -> float:
    """Events early today (UTC): the same day whenever the test runs."""
    midnight = datetime.combine(utc_now().date(), datetime.min.time())
    start = midnight.replace(tzinfo=timezone.utc).timestamp()
    events = [
        user_event(intent="ask_price", sentiment="negative", timestamp=start + 1),
        action_event("action_price_info", timestamp=start + 2),
        user_event(intent="greet", sender="o_other", timestamp=start + 3),
    ]
    items = [r for e in events if (r := recorded_from_event(e)) is not None]
    with store.engine.begin() as connection:
        write_recorded(connection, store, items)
    return start


def test_days_over_all_followers_name_no_openid(marketing_db: MarketingStore) -> None:
    seed(marketing_db)
    result = run("activity", "--days", "2")
    assert result.exit_code == 0, result.output
    yesterday, today = result.output.splitlines()
    assert yesterday.endswith("0 followers  messages 0  events 0  sentiment +0 =0 -0  "
                              "actions 0  intents: -")  # fmt: skip
    assert "2 followers  messages 2" in today
    assert "sentiment +0 =1 -1  actions 1  intents: ask_price 1, greet 1" in today
    assert "o_fan" not in result.output


def test_per_follower_rows_as_json(marketing_db: MarketingStore) -> None:
    start = seed(marketing_db)
    today = datetime.fromtimestamp(start, timezone.utc).date().isoformat()
    output = run("activity", "--per-follower", "--json").output
    rows = [json.loads(line) for line in output.splitlines()]
    assert [(r["day"], r["user_id"], r["messages"], r["actions"]) for r in rows] == [
        (today, "o_fan", 1, 1),
        (today, "o_other", 1, 0),
    ]
    only = run("activity", "--user", "o_other").output.splitlines()
    assert len(only) == 1 and "o_other  messages 1" in only[0]
