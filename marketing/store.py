"""The marketing store: interactions, leads, opt-outs and campaign sign-ups in SQL.

Leads are written sealed (phone encrypted, :mod:`marketing.leads`) and read back
decrypted with the store's cipher. :meth:`MarketingStore.erase_user` deletes all
of a customer's rows; :meth:`MarketingStore.purge_before` the marketing events
past retention. One class over one engine and the table handles every method
shares, hence a little over 300 lines in one module.

SQLAlchemy Core over any URL it knows: a SQLite file by default, PostgreSQL in
production (``postgresql://user@host:5432/db``). Calls are synchronous; actions run
them in a worker thread (:mod:`actions.marketing_action`) so the event loop never
waits on the database. No Rasa imports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (
    MetaData,
    Table,
    create_engine,
    delete,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine, RowMapping, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from marketing.leads import Lead, SealedLead
from marketing.schema import tables
from marketing.suppression import user_digest
from privacy.cipher import CipherError, DataCipher

logger = logging.getLogger(__name__)

IMPRESSION, CLICK, PURCHASE = "impression", "click", "purchase"
CONNECT_TIMEOUT_S = 3


def connect_args(url: str) -> dict[str, object]:
    """Driver options for ``url``.

    An unreachable PostgreSQL must cost seconds, not the TCP timeout.
    """
    if make_url(url).get_backend_name() == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


EVENTS = (IMPRESSION, CLICK, PURCHASE)
# What retention purges (:meth:`MarketingStore.purge_before`).
EVENT_TABLES = ("interactions", "activity", "action_runs")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time in UTC, without tzinfo (stored as such everywhere)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Interaction:
    """One logged event between a customer and an item."""

    user_id: str
    item_id: str
    event: str
    variant: str
    campaign: str | None
    tracking_id: str | None
    created_at: datetime
    target_url: str | None = None


class MarketingStore:
    """Reads and writes the marketing tables through one SQLAlchemy engine.

    Args:
        engine: Where the tables live.
        schema: Optional schema (PostgreSQL) holding the tables.
        clock: Timestamps for new rows (UTC, naive).
        cipher: Decrypts the phone numbers of leads (:meth:`leads`).
    """

    def __init__(
        self,
        engine: Engine,
        schema: str | None = None,
        clock: Clock = utc_now,
        cipher: DataCipher | None = None,
    ) -> None:
        self.engine = engine
        self.metadata = MetaData(schema=schema)
        self._t = tables(self.metadata)
        self._clock = clock
        self._cipher = cipher

    @classmethod
    def from_url(
        cls,
        url: str,
        schema: str | None = None,
        clock: Clock = utc_now,
        cipher: DataCipher | None = None,
    ) -> MarketingStore:
        """Connects to ``url`` and creates any missing table.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: The database cannot be reached.
        """
        parsed = make_url(url)
        database = parsed.database
        if parsed.get_backend_name() == "sqlite" and database not in (None, ":memory:"):
            Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, future=True, pool_pre_ping=True, connect_args=connect_args(url)
        )
        store = cls(engine, schema=schema, clock=clock, cipher=cipher)
        store.create_tables()
        return store

    def create_tables(self) -> None:
        """Creates the tables that do not exist yet.

        Processes that open the store at the same moment (Rasa's event broker,
        the action server, the click server) may race between the check and
        the ``CREATE``: the loser's "already exists" is answered by checking
        again.
        """
        try:
            self.metadata.create_all(self.engine)
        except DBAPIError:
            self.metadata.create_all(self.engine)

    def table(self, name: str) -> Table:
        """One of the tables of :mod:`marketing.schema` by name.

        For the modules beside this one that own a concept over a table
        (profiles, campaign sends, orders, coupons).

        Raises:
            KeyError: No such table.
        """
        return self._t[name]

    def now(self) -> datetime:
        """The store's clock: the time new rows get (UTC, naive)."""
        return self._clock()

    # --- interactions ---------------------------------------------------------

    def log(self, interactions: Iterable[Interaction]) -> None:
        """Appends interactions (impressions, clicks, purchases) in one transaction."""
        rows = [
            {
                "tracking_id": i.tracking_id,
                "user_id": i.user_id,
                "item_id": i.item_id,
                "event": i.event,
                "variant": i.variant,
                "campaign": i.campaign,
                "target_url": i.target_url,
                "created_at": i.created_at,
            }
            for i in interactions
        ]
        if rows:
            with self.engine.begin() as connection:
                connection.execute(self._t["interactions"].insert(), rows)

    def record_event(self, tracking_id: str, event: str) -> Interaction | None:
        """Logs a click or purchase on the impression with ``tracking_id``.

        Returns:
            The impression (its ``target_url`` is where a tracked link redirects),
            or ``None`` when the tracking id is unknown.
        """
        table = self._t["interactions"]
        query = select(table).where(
            table.c.tracking_id == tracking_id, table.c.event == IMPRESSION
        )
        with self.engine.begin() as connection:
            row = connection.execute(query.limit(1)).mappings().first()
            if row is None:
                return None
            impression = _interaction(row)
            values = {k: row[k] for k in row if k not in ("id", "target_url")}
            values.update(event=event, created_at=self._clock())
            connection.execute(table.insert(), [values])
        return impression

    def history(self, user_id: str, since: datetime | None = None) -> list[Interaction]:
        """The customer's interactions, oldest first (optionally since a time)."""
        table = self._t["interactions"]
        query = select(table).where(table.c.user_id == user_id)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.id)).mappings().all()
        return [_interaction(r) for r in rows]

    def feedback(self, events: Sequence[str] = (CLICK, PURCHASE)) -> list[Interaction]:
        """All interactions of the given kinds: implicit feedback for training."""
        table = self._t["interactions"]
        query = select(table).where(table.c.event.in_(list(events)))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.id)).mappings().all()
        return [_interaction(r) for r in rows]

    def effect_counts(self) -> list[tuple[str | None, str, str, int]]:
        """``(campaign, variant, event, count)`` over all interactions."""
        t = self._t["interactions"]
        query = select(t.c.campaign, t.c.variant, t.c.event, func.count()).group_by(
            t.c.campaign, t.c.variant, t.c.event
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [(r[0], str(r[1]), str(r[2]), int(r[3])) for r in rows]

    # --- leads, opt-outs and sign-ups ------------------------------------------

    def add_lead(self, lead: SealedLead) -> bool:
        """Stores a sealed lead once (by its ``ref``).

        Returns:
            ``True`` when stored now, ``False`` when it was stored before.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(self._t["leads"].insert(), [lead.__dict__])
        except IntegrityError:
            if self._lead_exists(lead.ref):
                return False  # an earlier try or replay stored it
            raise
        return True

    def _lead_exists(self, ref: str) -> bool:
        table = self._t["leads"]
        with self.engine.connect() as connection:
            query = select(table.c.id).where(table.c.ref == ref)
            return connection.execute(query).first() is not None

    def leads(self, user_id: str) -> list[Lead]:
        """The customer's leads, oldest first, numbers decrypted.

        Raises:
            privacy.cipher.CipherError: The store has no cipher, or not the key
                the leads were sealed with.
        """
        if self._cipher is None:
            raise CipherError("the store was given no data key to read leads")
        table = self._t["leads"]
        query = select(table).where(table.c.user_id == user_id).order_by(table.c.id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        fields = SealedLead.__dataclass_fields__
        return [
            SealedLead(**{k: r[k] for k in fields}).unseal(self._cipher) for r in rows
        ]

    def opt_out(self, user_id: str, at: datetime | None = None) -> None:
        """Records that the customer wants no marketing messages (idempotent).

        Args:
            user_id: The customer.
            at: When they said so (now by default; earlier for a replay).
        """
        if self.is_opted_out(user_id):
            return
        row = {"user_id": user_id, "created_at": at or self._clock()}
        try:
            with self.engine.begin() as connection:
                connection.execute(self._t["opt_outs"].insert(), [row])
        except IntegrityError:
            pass  # recorded by a concurrent turn: the outcome is the same

    def is_opted_out(self, user_id: str) -> bool:
        """Whether the customer has unsubscribed from marketing."""
        with self.engine.connect() as connection:
            return self.opted_out_in(connection, user_id)

    def opted_out_in(self, connection: Connection, user_id: str) -> bool:
        """:meth:`is_opted_out` inside ``connection``'s transaction.

        An opt-out, or a suppression left by the erasure of one.
        """
        opt_outs, suppressions = self._t["opt_outs"], self._t["suppressions"]
        said_no = select(opt_outs.c.user_id).where(opt_outs.c.user_id == user_id)
        if connection.execute(said_no).first() is not None:
            return True
        digest = user_digest(user_id)
        erased = select(suppressions.c.user_digest).where(
            suppressions.c.user_digest == digest
        )
        return connection.execute(erased).first() is not None

    def join_campaign(
        self, user_id: str, campaign_id: str, at: datetime | None = None
    ) -> bool:
        """Registers the customer for a campaign once (``at``: now by default).

        Returns:
            ``True`` for a new registration, ``False`` when already registered.
        """
        row = {
            "user_id": user_id,
            "campaign_id": campaign_id,
            "created_at": at or self._clock(),
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(self._t["campaign_signups"].insert(), [row])
        except IntegrityError:
            return False
        return True

    def campaigns_of(self, user_id: str) -> set[str]:
        """Ids of the campaigns the customer has joined."""
        table = self._t["campaign_signups"]
        query = select(table.c.campaign_id).where(table.c.user_id == user_id)
        with self.engine.connect() as connection:
            return {str(r[0]) for r in connection.execute(query)}

    # --- deletion -------------------------------------------------------------

    def erase_user(self, user_id: str) -> dict[str, int]:
        """Deletes every row of the customer, in every table, in one transaction.

        A customer who had opted out leaves a suppression (a digest of the
        openid, :mod:`marketing.suppression`): they never get marketing again.

        Returns:
            Rows deleted, by table.
        """
        counts = {}
        with self.engine.begin() as connection:
            if self.opted_out_in(connection, user_id):
                self._suppress(connection, user_id)
            for name, table in self._t.items():
                if "user_id" not in table.c:
                    continue  # holds no personal data
                query = delete(table).where(table.c.user_id == user_id)
                counts[name] = connection.execute(query).rowcount
        return counts

    def _suppress(self, connection: Connection, user_id: str) -> None:
        """Keeps the no of a follower whose opt-out is being erased."""
        table, digest = self._t["suppressions"], user_digest(user_id)
        known = select(table.c.user_digest).where(table.c.user_digest == digest)
        if connection.execute(known).first() is None:
            row = {"user_digest": digest, "created_at": self._clock()}
            connection.execute(table.insert(), [row])

    def purge_before(self, cutoff: datetime) -> dict[str, int]:
        """Deletes marketing events logged before ``cutoff`` (UTC).

        Events are the interactions (impressions, clicks, purchases), the
        followers' activity (messages and WeChat events) and the actions the
        bot ran for them; orders, leads and consents are records, kept until
        deleted.

        Returns:
            Rows deleted, by table.
        """
        counts = {}
        with self.engine.begin() as connection:
            for name in EVENT_TABLES:
                table = self._t[name]
                result = connection.execute(
                    delete(table).where(table.c.created_at < cutoff)
                )
                counts[name] = result.rowcount
        return counts


def _interaction(row: RowMapping) -> Interaction:
    get = row.__getitem__
    return Interaction(
        user_id=get("user_id"),
        item_id=get("item_id"),
        event=get("event"),
        variant=get("variant"),
        campaign=get("campaign"),
        tracking_id=get("tracking_id"),
        created_at=get("created_at"),
        target_url=get("target_url"),
    )
