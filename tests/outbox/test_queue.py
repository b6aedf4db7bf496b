"""The durable queue: entries survive, come back in order, and can be erased."""

from __future__ import annotations

from pathlib import Path

import pytest

from outbox.queue import DurableQueue, QueueError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_survive_a_new_instance_and_come_back_oldest_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "q" / "outbox.db"
    first = DurableQueue(path)
    first.put("lead", {"phone": "x"}, user_id="o1")
    first.put("opt_out", {"user_id": "o2"}, user_id="o2")
    reopened = DurableQueue(path)
    entries = reopened.due()
    assert [(e.kind, e.user_id) for e in entries] == [("lead", "o1"), ("opt_out", "o2")]
    assert entries[0].payload == {"phone": "x"}
    assert reopened.due(kind="opt_out")[0].user_id == "o2"
    assert reopened.pending() == 2
    reopened.done(entries[0].id)
    assert reopened.pending() == 1
    assert reopened.pending("lead") == 0


def test_retry_later_hides_an_entry_until_its_time_and_counts_attempts(
    tmp_path: Path,
) -> None:
    clock = Clock()
    queue = DurableQueue(tmp_path / "q.db", clock=clock)
    entry_id = queue.put("cs", {"touser": "o1"}, user_id="o1")
    queue.retry_later(entry_id, 30, "errcode -1")
    assert queue.due() == []
    clock.now += 31
    (entry,) = queue.due()
    assert entry.attempts == 1
    assert entry.last_error == "errcode -1"


def test_delay_and_erase_user(tmp_path: Path) -> None:
    clock = Clock()
    queue = DurableQueue(tmp_path / "q.db", clock=clock)
    queue.put("cs", {"n": 1}, user_id="o1", delay_s=10)
    queue.put("cs", {"n": 2}, user_id="o1")
    queue.put("cs", {"n": 3}, user_id="o2")
    assert [e.payload["n"] for e in queue.due()] == [2, 3]
    assert queue.erase_user("o1") == 2
    assert queue.pending() == 1


def test_an_unusable_place_is_a_queue_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    with pytest.raises(QueueError, match="cannot open"):
        DurableQueue(tmp_path / "taken" / "q.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(QueueError):
        DurableQueue(tmp_path / "dir.db")


def test_a_corrupt_file_is_a_queue_error(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(QueueError):
        DurableQueue(path)


def test_put_many_and_done_many_work_on_a_whole_batch(tmp_path: Path) -> None:
    queue = DurableQueue(tmp_path / "q.db")
    queue.put("other", {"n": 0}, user_id="o9")
    stored = queue.put_many("batch", [({"n": 1}, "o1"), ({"n": 2}, None)])
    assert stored == 2
    entries = queue.due(kind="batch")
    assert [(e.payload["n"], e.user_id) for e in entries] == [(1, "o1"), (2, None)]
    queue.done_many([e.id for e in entries])
    assert queue.pending("batch") == 0
    assert queue.pending() == 1
    assert queue.erase_user("o1") == 0
