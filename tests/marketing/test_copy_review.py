"""The copy review the admin server is given, over a real SQLite store."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from marketing.copy_drafts import (
    APPROVED,
    PENDING,
    CopyDrafts,
    DraftNotFound,
    ReviewError,
)
from marketing.copy_review import StoreCopyReview, store_copy_review
from marketing.store import MarketingStore
from tests.marketing.copy_data import FAILING, PASSING, catalog, checker, seed_drafts


def test_reviews_like_the_cli(marketing_db: MarketingStore) -> None:
    seeded = seed_drafts(marketing_db)
    review = store_copy_review(lambda: marketing_db, catalog())
    assert [d.id for d in review.drafts(status=PENDING)] == [
        seeded.passing, seeded.failing, seeded.markup, seeded.other
    ]  # fmt: skip
    with pytest.raises(ReviewError, match="failed ad_law, facts"):
        review.approve(seeded.failing, "dashboard")
    edited = review.edit(seeded.failing, PASSING, "dashboard")
    assert edited.passes and edited.edited and edited.status == PENDING
    assert review.approve(seeded.failing, "dashboard").status == APPROVED
    again = review.edit(seeded.passing, FAILING, "dashboard")
    assert [f.check for f in again.failures] == ["ad_law", "facts"]
    assert review.reject(seeded.passing, "dashboard", "no").note == "no"
    with pytest.raises(DraftNotFound):
        review.edit(999, PASSING, "dashboard")


def test_an_unreadable_brief_refuses_the_edit(marketing_db: MarketingStore) -> None:
    seeded = seed_drafts(marketing_db)
    table = marketing_db.table("copy_drafts")
    with marketing_db.engine.begin() as connection:
        connection.execute(
            update(table).where(table.c.id == seeded.failing).values(brief="{")
        )
    review = StoreCopyReview(lambda: marketing_db, checker())
    with pytest.raises(ReviewError, match="unreadable brief"):
        review.edit(seeded.failing, PASSING, "dashboard")
    assert CopyDrafts(marketing_db).get(seeded.failing).text == FAILING
