"""What every ``aurora-marketing`` subcommand shares: settings and the store.

The group (:mod:`marketing.cli`) puts a :class:`CliContext` on click's context;
a subcommand takes it with ``@pass_cli``. The store is opened on first use, so
``--help`` and commands that need no database never connect. Failures a user
can fix (a setting, an unreachable database, a bad file) become
:class:`click.ClickException`: one clear line and exit status 1, no traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from marketing.settings import Settings, SettingsError, data_cipher
from marketing.store import MarketingStore

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliContext:
    """Settings of this invocation and the store, opened when first needed."""

    settings: Settings
    _store: MarketingStore | None = field(default=None, repr=False)

    def store(self) -> MarketingStore:
        """The marketing store of ``settings.database_url``, tables created.

        Raises:
            click.ClickException: The database cannot be reached or the data key
                cannot be used.
        """
        if self._store is None:
            with user_errors("marketing store"):
                self._store = MarketingStore.from_url(
                    self.settings.database_url, cipher=data_cipher(self.settings)
                )
        return self._store

    def close(self) -> None:
        """Closes the store's connections."""
        if self._store is not None:
            self._store.engine.dispose()
            self._store = None


pass_cli = click.make_pass_decorator(CliContext)


@contextmanager
def user_errors(what: str) -> Iterator[None]:
    """Turns the errors a user can fix into a one-line :class:`ClickException`."""
    try:
        yield
    except SettingsError as e:
        raise click.ClickException(f"setting: {e}") from e
    except SQLAlchemyError as e:
        lines = str(getattr(e, "orig", None) or e).strip().splitlines()
        reason = lines[0] if lines else type(e).__name__
        raise click.ClickException(f"{what}: database unavailable ({reason})") from e
    except (OSError, ValueError) as e:
        raise click.ClickException(f"{what}: {e}") from e
