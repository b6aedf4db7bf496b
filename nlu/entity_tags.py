"""IO tags for the entity head: character spans <-> per-token tags.

The encoder's tokenizer decides the tokens; their offset mapping (character
start and end in the original text) ties each token to characters. Training
spans become one tag per token (the entity type inside a span, ``O`` elsewhere);
a run of tokens with the same type becomes one span on those tokens' exact
characters, so an entity is always a substring of the message, whatever the
tokenizer normalised (full-width letters, case, spacing).

IO rather than BIO: for subword pieces of Chinese the first-piece distinction is
arbitrary, and a 12-layer encoder fine-tuned for a few epochs tagged every
piece ``B-`` (BENCHMARKS.md). The price: two entities of one type with nothing
but spaces between them read as one; our NLU data has no such pair.
Pure Python: no torch, no Rasa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OUTSIDE = "O"
# Tag id of tokens that do not take part in the loss (special tokens, padding,
# texts without entity annotations).
IGNORE = -100


@dataclass(frozen=True)
class EntitySpan:
    """An entity on characters ``start:end`` of a text."""

    entity: str
    start: int
    end: int


@dataclass(frozen=True)
class TaggedEntity:
    """A predicted entity: its span, the text there and the mean tag confidence."""

    entity: str
    start: int
    end: int
    value: str
    confidence: float


def tag_names(entity_types: Sequence[str]) -> tuple[str, ...]:
    """``O``, then one tag per entity type, in the given order."""
    if OUTSIDE in entity_types:
        raise ValueError(f"{OUTSIDE!r} cannot be an entity type")
    return (OUTSIDE, *entity_types)


def entity_types(tags: Sequence[str]) -> tuple[str, ...]:
    """The entity types of a tag list made by `tag_names`."""
    return tuple(tag for tag in tags if tag != OUTSIDE)


def token_tags(
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[EntitySpan],
    tags: Sequence[str],
) -> list[int]:
    """One tag id per token for training.

    A token belongs to a span when more than half of its characters lie in it
    (a span shorter than every token it touches takes those tokens). Tokens
    without characters (special tokens, padding, word-start markers) get
    `IGNORE`. Spans of unknown types are read as no entity.
    """
    index = {name: i for i, name in enumerate(tags)}
    ids = [IGNORE if end <= start else index[OUTSIDE] for start, end in offsets]
    owned = [False] * len(offsets)
    for span in spans:
        if span.entity not in index or span.entity == OUTSIDE:
            continue
        touching = [
            i
            for i, (start, end) in enumerate(offsets)
            if end > start and start < span.end and span.start < end
        ]
        inside = [
            i
            for i in touching
            if 2 * (min(offsets[i][1], span.end) - max(offsets[i][0], span.start))
            > offsets[i][1] - offsets[i][0]
        ]
        for i in inside or touching:
            if not owned[i]:  # the first of overlapping spans keeps a token
                owned[i] = True
                ids[i] = index[span.entity]
    return ids


def decode(
    text: str,
    offsets: Sequence[tuple[int, int]],
    tag_ids: Sequence[int],
    confidences: Sequence[float],
    tags: Sequence[str],
) -> list[TaggedEntity]:
    """Entities from per-token tags (tokens without characters are skipped).

    A run of tokens with the same type is one entity; spans are trimmed of
    surrounding whitespace and cover the tokens' exact characters.
    """
    entities: list[TaggedEntity] = []
    current: tuple[str, int, int, list[float]] | None = None
    for (start, end), tag_id, confidence in zip(
        offsets, tag_ids, confidences, strict=True
    ):
        if end <= start:
            continue
        tag = tags[tag_id]
        if current and tag == current[0]:
            current = (tag, current[1], end, [*current[3], confidence])
            continue
        if current:
            entities += _entity(text, *current)
            current = None
        if tag != OUTSIDE:
            current = (tag, start, end, [confidence])
    if current:
        entities += _entity(text, *current)
    return entities


def _entity(
    text: str, entity: str, start: int, end: int, confidences: list[float]
) -> list[TaggedEntity]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return []
    confidence = sum(confidences) / len(confidences)
    return [TaggedEntity(entity, start, end, text[start:end], float(confidence))]
