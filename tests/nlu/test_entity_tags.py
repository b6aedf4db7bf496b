"""IO tags: training spans onto tokens, predicted tags back onto characters."""

from __future__ import annotations

import pytest

from nlu.entity_tags import (
    IGNORE,
    OUTSIDE,
    EntitySpan,
    TaggedEntity,
    decode,
    entity_types,
    tag_names,
    token_tags,
)

TAGS = tag_names(["product", "color"])
OUT, PRODUCT, COLOR = range(len(TAGS))
# Offsets as a fast tokenizer gives them: special tokens and padding own no
# characters.
CLS = SEP = PAD = (0, 0)


def _tags(offsets: list[tuple[int, int]], *spans: EntitySpan) -> list[str]:
    """Tag names rather than ids, so a failure reads like the tag sequence."""
    return ["-" if i == IGNORE else TAGS[i] for i in token_tags(offsets, spans, TAGS)]


def _decode(
    text: str,
    offsets: list[tuple[int, int]],
    tags: list[int],
    confidences: list[float] | None = None,
) -> list[tuple[str, int, int, str]]:
    found = decode(text, offsets, tags, confidences or [1.0] * len(tags), TAGS)
    for entity in found:  # the contract the Rasa component relies on
        assert 0 <= entity.start < entity.end <= len(text)
        assert entity.value == text[entity.start : entity.end]
        assert entity.value == entity.value.strip()
    return [(e.entity, e.start, e.end, e.value) for e in found]


# --- tag names ----------------------------------------------------------------------


def test_tag_names_put_outside_first_then_one_tag_per_type() -> None:
    assert TAGS == ("O", "product", "color")
    assert tag_names([]) == (OUTSIDE,)
    with pytest.raises(ValueError, match="'O'"):
        tag_names(["O"])


@pytest.mark.parametrize("types", [(), ("product",), ("product", "color", "city")])
def test_entity_types_undo_tag_names(types: tuple[str, ...]) -> None:
    assert entity_types(tag_names(types)) == types


# --- spans to token tags ------------------------------------------------------------


def test_tokens_inside_a_span_get_its_type() -> None:
    # "买衣服吧": one token per character.
    offsets = [CLS, (0, 1), (1, 2), (2, 3), (3, 4), SEP, PAD]

    assert _tags(offsets, EntitySpan("product", 1, 3)) == [
        "-", "O", "product", "product", "O", "-", "-",
    ]  # fmt: skip


def test_a_token_belongs_to_a_span_holding_more_than_half_of_it() -> None:
    # "hello world": tokens "hel" (0, 3), "lo" (3, 5), "world" (6, 11).
    offsets = [(0, 3), (3, 5), (6, 11)]

    # 2 of "hel"'s 3 characters are in: in; 1 of "world"'s 5: out.
    assert _tags(offsets, EntitySpan("product", 1, 7)) == [
        "product", "product", "O",
    ]  # fmt: skip
    # Exactly half of "lo" is not a majority; "hel" wholly in still is.
    assert _tags(offsets, EntitySpan("product", 0, 4)) == ["product", "O", "O"]


def test_a_span_inside_a_single_token_takes_that_token() -> None:
    # "iPhone15" as one token; the gold span is "15" only.
    assert _tags([CLS, (0, 8), SEP], EntitySpan("product", 6, 8)) == [
        "-", "product", "-",
    ]  # fmt: skip
    assert _tags([(0, 8)], EntitySpan("product", 7, 8)) == ["product"]


def test_a_span_that_no_token_has_a_majority_of_takes_every_token_it_touches() -> None:
    # Tokens "ab" and "cd"; the span "bc" is half of each.
    assert _tags([(0, 2), (2, 4), (4, 6)], EntitySpan("color", 1, 3)) == [
        "color", "color", "O",
    ]  # fmt: skip


def test_tokens_without_characters_are_ignored_even_inside_a_span() -> None:
    # XLM-R's lone word-start marker "▁" is given (0, 0), as special tokens are.
    offsets = [CLS, (0, 0), (0, 2), (2, 3), SEP]

    assert _tags(offsets, EntitySpan("product", 0, 3)) == [
        "-", "-", "product", "product", "-",
    ]  # fmt: skip


def test_adjacent_entities_of_the_same_type_read_as_one() -> None:
    # "衣服鞋子": two products, one token per character; IO cannot tell them
    # apart (the NLU data has no such pair, tests/test_contract.py checks).
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4)]
    spans = (EntitySpan("product", 0, 2), EntitySpan("product", 2, 4))

    assert _tags(offsets, *spans) == ["product"] * 4
    ids = token_tags(offsets, spans, TAGS)
    assert _decode("衣服鞋子", offsets, ids) == [("product", 0, 4, "衣服鞋子")]


def test_adjacent_entities_of_different_types() -> None:
    # "红色衣服"
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4)]
    spans = (EntitySpan("color", 0, 2), EntitySpan("product", 2, 4))

    assert _tags(offsets, *spans) == ["color", "color", "product", "product"]


def test_the_first_of_overlapping_spans_keeps_a_shared_token() -> None:
    offsets = [(0, 1), (1, 2), (2, 3)]
    spans = (EntitySpan("color", 0, 2), EntitySpan("product", 1, 3))

    assert _tags(offsets, *spans) == ["color", "color", "product"]


def test_spans_of_unknown_types_read_as_no_entity() -> None:
    offsets = [(0, 1), (1, 2), (2, 3)]

    assert _tags(offsets, EntitySpan("city", 0, 2)) == ["O", "O", "O"]
    assert token_tags(offsets, [EntitySpan("product", 0, 1)], tag_names([])) == [
        0,
        0,
        0,
    ]


def test_no_spans_no_tokens() -> None:
    assert _tags([CLS, (0, 2), SEP]) == ["-", "O", "-"]
    assert token_tags([], [EntitySpan("product", 0, 1)], TAGS) == []


def test_a_span_beyond_the_truncated_tokens_tags_nothing() -> None:
    # Only the first two characters were kept by truncation.
    assert _tags([CLS, (0, 1), (1, 2), SEP], EntitySpan("product", 5, 7)) == [
        "-", "O", "O", "-",
    ]  # fmt: skip


# --- token tags to entities ---------------------------------------------------------


def test_decode_gives_typed_spans_on_the_exact_characters() -> None:
    text = "红色衣服多少钱"
    offsets = [CLS, *((i, i + 1) for i in range(len(text))), SEP]
    tags = [OUT, COLOR, COLOR, PRODUCT, PRODUCT, OUT, OUT, OUT, OUT]

    assert _decode(text, offsets, tags) == [
        ("color", 0, 2, "红色"),
        ("product", 2, 4, "衣服"),
    ]


def test_decode_confidence_is_the_mean_over_the_entity_tokens() -> None:
    found = decode(
        "衣服好",
        [(0, 1), (1, 2), (2, 3)],
        [PRODUCT, PRODUCT, OUT],
        [0.9, 0.5, 0.99],
        TAGS,
    )

    (entity,) = found
    assert entity == TaggedEntity("product", 0, 2, "衣服", entity.confidence)
    assert type(entity.confidence) is float
    assert entity.confidence == pytest.approx(0.7)


def test_a_change_of_type_starts_a_new_entity() -> None:
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4)]

    assert _decode("红色衣服", offsets, [COLOR, COLOR, PRODUCT, PRODUCT]) == [
        ("color", 0, 2, "红色"),
        ("product", 2, 4, "衣服"),
    ]
    assert _decode("买衣服吧", offsets, [OUT, PRODUCT, PRODUCT, OUT]) == [
        ("product", 1, 3, "衣服")
    ]


def test_an_outside_token_ends_an_entity() -> None:
    offsets = [(0, 1), (1, 2), (2, 3), (3, 4)]

    assert _decode("衣服和鞋", offsets, [PRODUCT, PRODUCT, OUT, PRODUCT]) == [
        ("product", 0, 2, "衣服"),
        ("product", 3, 4, "鞋"),
    ]


def test_decode_trims_whitespace_around_an_entity() -> None:
    # XLM-R pieces like "▁15" carry the space before them.
    text = "iPhone 15 多少钱"
    offsets = [CLS, (0, 6), (6, 9), (9, 10), (10, 13), SEP]
    tags = [OUT, PRODUCT, PRODUCT, PRODUCT, OUT, OUT]

    assert _decode(text, offsets, tags) == [("product", 0, 9, "iPhone 15")]
    assert _decode(text, offsets, [OUT, OUT, PRODUCT, OUT, OUT, OUT]) == [
        ("product", 7, 9, "15")
    ]


def test_an_entity_of_whitespace_only_is_dropped() -> None:
    text = "衣服 \t 好"
    offsets = [(0, 1), (1, 2), (2, 5), (5, 6)]

    assert _decode(text, offsets, [OUT, OUT, COLOR, OUT]) == []
    assert _decode(text, offsets, [PRODUCT, PRODUCT, PRODUCT, OUT]) == [
        ("product", 0, 2, "衣服")
    ]


def test_tokens_without_characters_neither_end_nor_join_an_entity() -> None:
    offsets = [CLS, (0, 0), (0, 1), (0, 0), (1, 2), SEP, PAD]
    # Whatever is predicted on special tokens and padding does not count.
    tags = [COLOR, COLOR, PRODUCT, COLOR, PRODUCT, COLOR, COLOR]

    assert _decode("衣服", offsets, tags) == [("product", 0, 2, "衣服")]


def test_decode_of_nothing_is_nothing() -> None:
    assert _decode("", [CLS, SEP], [PRODUCT, PRODUCT]) == []
    assert _decode("", [], []) == []
    assert _decode("你好", [(0, 1), (1, 2)], [OUT, OUT]) == []


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        decode("你好", [(0, 1), (1, 2)], [OUT], [1.0, 1.0], TAGS)


def test_token_tags_then_decode_give_the_spans_back() -> None:
    text = "我要 红色 衣服，和鞋子"
    offsets = [CLS, *((i, i + 1) for i in range(len(text))), SEP, PAD]
    spans = [
        EntitySpan("color", 3, 5),
        EntitySpan("product", 6, 8),
        EntitySpan("product", 10, 12),
    ]

    ids = token_tags(offsets, spans, TAGS)
    found = decode(text, offsets, [max(i, 0) for i in ids], [1.0] * len(offsets), TAGS)

    assert [EntitySpan(e.entity, e.start, e.end) for e in found] == spans
    assert [e.value for e in found] == ["红色", "衣服", "鞋子"]
