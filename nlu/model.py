"""Joint NLU model: one BERT-family encoder for intent, sentiment and entities.

Torch and transformers only, so the Rasa component stays a thin adapter and the
model can be trained, tested and benchmarked on its own. One forward pass per
message gives both rankings and the entity spans.

This module holds the model's public face: its data shapes, building, saving,
loading, `predict` and `fit`. The network itself and the loading of its parts are
in ``nlu.joint_network``, the fine-tuning loop in
``nlu.joint_training``, the IO tagging in ``nlu.entity_tags``.
Over 300 lines because what is left is one class whose steps share its private
state (network, tokenizer, labels, lexical experts); splitting it further would
expose that state between modules.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError  # type: ignore[attr-defined]
from safetensors.torch import save_file
from torch import nn
from transformers import PreTrainedTokenizerBase

from nlu import entity_tags
from nlu.constants import SENTIMENT_LABELS
from nlu.entity_tags import EntitySpan, TaggedEntity
from nlu.joint_network import (
    POOLING,
    JointNetwork,
    Logits,
    ModelLoadError,
    autocast,
    check_max_length,
    cpu_has_bf16,
    load_backbone,
    load_heads,
    resolve_device,
)
from nlu.joint_training import (
    NO_LABEL,
    Example,
    Targets,
    TrainingConfig,
    TrainingReport,
    fine_tune,
)
from nlu.lexical_model import (
    HeadData,
    LexicalModel,
    LexicalSpec,
    product_of_experts,
)

__all__ = [
    "HEADS_FILE",
    "LABELS_FILE",
    "EntitySpan",
    "LabelledText",
    "ModelLoadError",
    "NluModel",
    "Prediction",
    "TaggedEntity",
    "TrainingConfig",
    "TrainingReport",
]

LABELS_FILE = "labels.json"
HEADS_FILE = "heads.safetensors"
# The pooled heads that get a lexical expert (``nlu.lexical_model``).
LEXICAL_HEADS = ("intent", "sentiment")
# Encoder weights are stored in half precision (half the model archive); `fit`
# rounds them to it, so a saved model predicts exactly what the trained one did.
STORAGE_DTYPE = torch.float16


@dataclass(frozen=True)
class LabelledText:
    """One training text; a missing label means that head does not learn from it.

    ``entities`` None: the text carries no entity annotation (e.g. a review);
    ``()``: annotated, with no entity in it.
    """

    text: str
    intent: str | None = None  # None = sentiment-only example (e.g. review corpus)
    sentiment: str | None = None  # None = no sentiment label
    entities: tuple[EntitySpan, ...] | None = None


@dataclass(frozen=True)
class Prediction:
    """Both rankings (all labels, sorted desc, plain floats, sum 1) and entities."""

    intent_ranking: tuple[tuple[str, float], ...]
    sentiment_ranking: tuple[tuple[str, float], ...]
    entities: tuple[TaggedEntity, ...] = ()


class NluModel:
    """Fine-tunes and applies the joint intent + sentiment + entity model.

    With a ``lexical_weight`` above 0 the intent and sentiment probabilities are
    the encoder's times a lexical expert's to that power, renormalised
    (``nlu.lexical_model``); entities come from the encoder alone.
    Build it with `from_backbone` (fresh heads) or `load` (a saved model).
    """

    def __init__(
        self,
        network: JointNetwork,
        tokenizer: PreTrainedTokenizerBase,
        labels: _Labels,
        max_length: int,
        trained: bool,
        lexical_weight: float = 0.0,
        lexical: LexicalModel | None = None,
    ):
        self._network = network
        self._tokenizer = tokenizer
        self.intents = labels.intents
        self.sentiments = labels.sentiments
        self.entity_tags = labels.entity_tags
        self.max_length = max_length
        self._trained = trained
        self.lexical_weight = lexical_weight
        self._lexical = lexical
        # bf16 autocast on CPU, where the hardware has it and `fit` asks.
        self._cpu_bf16 = False

    @property
    def entity_types(self) -> tuple[str, ...]:
        """The entity types the model tags."""
        return entity_tags.entity_types(self.entity_tags)

    @property
    def device(self) -> torch.device:
        """Where the weights live; training and prediction run there."""
        return next(self._network.parameters()).device

    @classmethod
    def from_backbone(
        cls,
        model_name_or_path: str,
        intents: Sequence[str],
        sentiments: Sequence[str] = SENTIMENT_LABELS,
        entity_types: Sequence[str] = (),
        max_length: int = 64,
        device: str = "auto",
        encoder_layers: int | None = None,
        lexical_weight: float = 0.0,
    ) -> NluModel:
        """Loads a pretrained encoder and its tokenizer and adds untrained heads.

        Args:
            model_name_or_path: A local directory (`save_pretrained` output) or a
                Hugging Face hub id (needs network unless already cached).
            intents: The intent labels, in a fixed order.
            sentiments: The sentiment labels, in a fixed order.
            entity_types: The entity types to tag; none = no entity head.
            max_length: Tokens kept per text; longer texts are truncated.
            device: "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
            encoder_layers: Keep only the lower N layers of the encoder; None =
                all of them.
            lexical_weight: Exponent of the lexical experts' probabilities in
                the intent and sentiment predictions; 0 = encoder alone.

        Returns:
            A model whose heads `fit` initialises from its seed.

        Raises:
            ModelLoadError: The encoder or tokenizer cannot be loaded.
            ValueError: Labels are empty or repeated, the layer count or the
                device is unknown.
        """
        labels = _Labels(
            _check_labels(intents, "intents"),
            _check_labels(sentiments, "sentiments"),
            entity_tags.tag_names(_check_types(entity_types)),
        )
        if lexical_weight < 0:
            raise ValueError(f"lexical_weight must be >= 0, got {lexical_weight}")
        target = resolve_device(device)
        encoder, tokenizer = load_backbone(model_name_or_path, encoder_layers)
        network = _network(encoder, labels)
        network.to(target).eval()  # `fit` switches to training mode and back
        check_max_length(max_length, encoder)
        return cls(network, tokenizer, labels, max_length, False, float(lexical_weight))

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> NluModel:
        """Loads a model written by `save`.

        Raises:
            ModelLoadError: The directory is missing, incomplete or inconsistent.
        """
        missing = [
            name
            for name in (LABELS_FILE, HEADS_FILE, "config.json")
            if not (directory / name).is_file()
        ]
        if missing:
            raise ModelLoadError(
                f"{directory} is not a saved NluModel: missing "
                f"{', '.join(missing)}. Save it again with NluModel.save."
            )
        try:
            meta = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
            labels = _Labels(
                tuple(meta["intents"]),
                tuple(meta["sentiments"]),
                tuple(meta.get("entity_tags", entity_tags.tag_names(()))),
            )
            if meta["pooling"] != POOLING:
                raise ValueError(f"unsupported pooling {meta['pooling']!r}")
            encoder, tokenizer = load_backbone(str(directory))
            network = _network(encoder, labels)
            load_heads(network, directory / HEADS_FILE)
            max_length = int(meta["max_length"])
            lexical_weight = float(meta.get("lexical_weight", 0.0))
            lexical = (
                LexicalModel.load(directory) if meta.get("lexical_heads") else None
            )
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            RuntimeError,
            SafetensorError,
        ) as e:
            raise ModelLoadError(f"cannot load the model in {directory}: {e}") from e
        network.to(resolve_device(device)).eval()
        return cls(
            network, tokenizer, labels, max_length, True, lexical_weight, lexical
        )

    def save(self, directory: Path) -> None:
        """Writes encoder (half precision), tokenizer, heads and labels.

        Raises:
            ValueError: The model was quantised for inference (save it before).
        """
        if self._is_quantized():
            raise ValueError("a quantised model cannot be saved; save it before")
        directory.mkdir(parents=True, exist_ok=True)
        encoder = self._network.encoder
        weights = {
            name: t.to(STORAGE_DTYPE) if t.is_floating_point() else t
            for name, t in encoder.state_dict().items()
        }
        encoder.save_pretrained(directory, state_dict=weights)
        self._tokenizer.save_pretrained(directory)
        heads = {
            name: tensor.detach().cpu().contiguous()
            for name, tensor in self._network.state_dict().items()
            if not name.startswith("encoder.")
        }
        save_file(heads, directory / HEADS_FILE)
        meta = {
            "intents": list(self.intents),
            "sentiments": list(self.sentiments),
            "entity_tags": list(self.entity_tags),
            "max_length": self.max_length,
            "pooling": POOLING,
            "lexical_weight": self.lexical_weight,
            "lexical_heads": list(self._lexical.heads if self._lexical else ()),
        }
        (directory / LABELS_FILE).write_text(json.dumps(meta, ensure_ascii=False))
        if self._lexical is not None:
            self._lexical.save(directory)

    def quantize(self) -> None:
        """Int8 dynamic quantisation of the encoder's Linear layers (CPU only).

        Weights per output channel (per-tensor scales cost several points of
        intent accuracy on our fine-tuned encoders), activations per batch.
        Faster per message on CPU; the benchmark measures what it costs. The
        model can no longer be trained or saved.
        """
        if self.device.type != "cpu" or self._is_quantized():
            return
        with warnings.catch_warnings():
            # torch 2.10+ points to torchao, which is not in our pinned set.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                self._network.encoder,
                {nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
                inplace=True,
            )
        self._trained = True

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Prediction]:
        """Ranks intents and sentiments and tags entities, one forward pass each."""
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not one string")
        # Similar lengths in a batch pad less; results go back in input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        predictions: dict[int, Prediction] = {}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                indices = order[start : start + batch_size]
                batch = [texts[i] for i in indices]
                encoded = self._tokenize(batch)
                logits = self._forward(encoded, batch)
                for index, prediction in zip(
                    indices, self._postprocess(batch, encoded, logits), strict=True
                ):
                    predictions[index] = prediction
        return [predictions[i] for i in range(len(texts))]

    def fit(
        self,
        train: Sequence[LabelledText],
        dev: Sequence[LabelledText],
        config: TrainingConfig,
        cpu_bf16: bool = True,
    ) -> TrainingReport:
        """Fine-tunes encoder and heads on the joint loss.

        Loss = CE(intent) over examples with an intent + `sentiment_loss_weight` *
        CE(sentiment) over examples with a sentiment + `entity_loss_weight` *
        CE(entity tag) over the tokens of examples with entity annotations. With
        a non-empty `dev` and `patience` > 0 training stops early and keeps the
        best dev-loss weights; otherwise the last weights are kept. The first fit
        of a fresh model initialises the heads from `config.seed`, so equal seeds
        give equal models on CPU. With `cpu_bf16`, a CPU that computes bfloat16
        natively trains in mixed precision (about twice as fast).

        Raises:
            ValueError: No labelled example, a label the model does not know, or
                a model that was quantised for inference.
        """
        if self._is_quantized():
            raise ValueError("a quantised model cannot be trained; load it again")
        examples, dev_examples = self._encode(train), self._encode(dev)
        if not examples:
            raise ValueError("fit needs at least one example with a label")
        if config.epochs < 1 or config.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        check_max_length(config.max_length, self._network.encoder)
        self.max_length = config.max_length
        if config.device != "auto":
            self._network.to(resolve_device(config.device))
        self._cpu_bf16 = cpu_bf16 and self.device.type == "cpu" and cpu_has_bf16()
        try:
            report = fine_tune(
                self._network,
                self._batch,
                examples,
                dev_examples,
                config,
                reset_heads=not self._trained,
            )
        finally:
            self._cpu_bf16 = False
        _round_to(self._network.encoder, STORAGE_DTYPE)
        if self.lexical_weight > 0:
            self._lexical = self._fit_lexical(train, config)
        self._trained = True
        return report

    def _fit_lexical(
        self, train: Sequence[LabelledText], config: TrainingConfig
    ) -> LexicalModel | None:
        data = {}
        for head, labels in zip(
            LEXICAL_HEADS, (self.intents, self.sentiments), strict=True
        ):
            examples = [
                (e.text, label)
                for e in train
                if (label := getattr(e, head)) is not None
            ]
            if examples:  # a head without labels keeps the encoder alone
                texts, targets = zip(*examples, strict=True)
                data[head] = HeadData(texts, targets, labels)
        return LexicalModel.fit(data, LexicalSpec(c=config.lexical_c)) if data else None

    # --- pipeline steps ------------------------------------------------------------

    def _tokenize(self, texts: Sequence[str]) -> Any:
        return self._tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            return_offsets_mapping=self._network.entity_head is not None,
        )

    def _forward(self, encoded: Any, texts: Sequence[str]) -> Logits:
        inputs = {
            key: encoded[key].to(self.device) for key in ("input_ids", "attention_mask")
        }
        with autocast(self.device, self._cpu_bf16):
            logits: Logits = self._network(**inputs)
            return logits

    def _batch(self, examples: Sequence[Example]) -> tuple[Logits, Targets]:
        texts = [e.text for e in examples]
        encoded = self._tokenize(texts)
        targets = Targets(
            torch.tensor([e.intent for e in examples], device=self.device),
            torch.tensor([e.sentiment for e in examples], device=self.device),
            self._entity_targets(examples, encoded),
        )
        return self._forward(encoded, texts), targets

    def _entity_targets(
        self, examples: Sequence[Example], encoded: Any
    ) -> torch.Tensor | None:
        if self._network.entity_head is None:
            return None
        rows = []
        for example, offsets in zip(examples, _offsets(encoded), strict=True):
            if example.entities is None:
                rows.append([NO_LABEL] * len(offsets))
            else:
                rows.append(
                    entity_tags.token_tags(offsets, example.entities, self.entity_tags)
                )
        return torch.tensor(rows, device=self.device)

    def _postprocess(
        self, texts: Sequence[str], encoded: Any, logits: Logits
    ) -> Iterator[Prediction]:
        intent_probs = torch.softmax(logits.intent.float(), dim=-1).cpu().numpy()
        sentiment_probs = torch.softmax(logits.sentiment.float(), dim=-1).cpu().numpy()
        if self._lexical is not None and self.lexical_weight > 0:
            experts = self._lexical.probabilities(texts)
            if "intent" in experts:
                intent_probs = product_of_experts(
                    intent_probs, experts["intent"], self.lexical_weight
                )
            if "sentiment" in experts:
                sentiment_probs = product_of_experts(
                    sentiment_probs, experts["sentiment"], self.lexical_weight
                )
        entities: list[tuple[TaggedEntity, ...]] = [()] * len(texts)
        if logits.entity is not None:
            probs = torch.softmax(logits.entity.float(), dim=-1)
            confidence, tags = probs.max(dim=-1)
            entities = [
                tuple(
                    entity_tags.decode(
                        text, offsets, tag_row, confidence_row, self.entity_tags
                    )
                )
                for text, offsets, tag_row, confidence_row in zip(
                    texts,
                    _offsets(encoded),
                    tags.cpu().tolist(),
                    confidence.cpu().tolist(),
                    strict=True,
                )
            ]
        for intent_row, sentiment_row, found in zip(
            intent_probs.tolist(), sentiment_probs.tolist(), entities, strict=True
        ):
            yield Prediction(
                _ranking(self.intents, intent_row),
                _ranking(self.sentiments, sentiment_row),
                found,
            )

    def _encode(self, examples: Sequence[LabelledText]) -> list[Example]:
        encoded = []
        known_types = set(self.entity_types)
        for example in examples:
            intent = _index(self.intents, example.intent, example.text)
            sentiment = _index(self.sentiments, example.sentiment, example.text)
            spans = example.entities
            if spans is not None:
                spans = tuple(s for s in spans if s.entity in known_types)
                if self._network.entity_head is None:
                    spans = None
            if intent != NO_LABEL or sentiment != NO_LABEL or spans is not None:
                encoded.append(Example(example.text, intent, sentiment, spans))
        return encoded

    def _is_quantized(self) -> bool:
        return any(
            "quantized" in type(module).__module__
            for module in self._network.encoder.modules()
        )


# --- helpers ---------------------------------------------------------------------


def _network(encoder: Any, labels: _Labels) -> JointNetwork:
    return JointNetwork(
        encoder, len(labels.intents), len(labels.sentiments), len(labels.entity_tags)
    )


@dataclass(frozen=True)
class _Labels:
    intents: tuple[str, ...]
    sentiments: tuple[str, ...]
    entity_tags: tuple[str, ...]


def _offsets(encoded: Any) -> list[list[tuple[int, int]]]:
    """Per text, the characters of each token; special tokens and padding: (0, 0).

    A token whose characters overlap the next token's only marks a word start
    (XLM-R's lone "▁" carries the first character of the following piece), so
    it owns no characters either.
    """
    rows: list[list[tuple[int, int]]] = []
    for row in encoded["offset_mapping"].tolist():
        spans = [(int(start), int(end)) for start, end in row]
        for i in range(len(spans) - 1):
            following = spans[i + 1]
            if following[1] > following[0] and following[0] < spans[i][1]:
                spans[i] = (0, 0)
        rows.append(spans)
    return rows


def _round_to(module: nn.Module, dtype: torch.dtype) -> None:
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(dtype))


def _check_labels(labels: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(labels, str) or not labels or len(set(labels)) != len(labels):
        raise ValueError(f"{what} must be a non-empty sequence of distinct labels")
    return tuple(labels)


def _check_types(types: Sequence[str]) -> tuple[str, ...]:
    if isinstance(types, str) or len(set(types)) != len(types):
        raise ValueError("entity_types must be a sequence of distinct names")
    return tuple(types)


def _index(labels: tuple[str, ...], label: str | None, text: str) -> int:
    if label is None:
        return NO_LABEL
    if label not in labels:
        raise ValueError(f"label {label!r} of {text[:50]!r} is not one of {labels}")
    return labels.index(label)


def _ranking(
    labels: tuple[str, ...], probs: list[float]
) -> tuple[tuple[str, float], ...]:
    pairs = ((label, float(p)) for label, p in zip(labels, probs, strict=True))
    return tuple(sorted(pairs, key=lambda pair: pair[1], reverse=True))
