"""Joint intent and sentiment classifier: one BERT-family encoder, two linear heads.

Torch and transformers only, so the Rasa component stays a thin adapter and the
model can be trained, tested and benchmarked on its own. One forward pass per
message gives both rankings.

This module holds the model's public face: its data shapes, building, saving,
loading, `predict` and `fit`. The network itself and the loading of its parts are
in ``components.joint_network``, the fine-tuning loop in
``components.joint_training``; the names callers need are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError  # type: ignore[attr-defined]
from safetensors.torch import save_file
from transformers import PreTrainedTokenizerBase

from components.char_ngrams import NgramSpec
from components.constants import SENTIMENT_LABELS
from components.joint_network import (
    POOLING,
    JointNetwork,
    ModelLoadError,
    autocast,
    check_max_length,
    load_backbone,
    load_heads,
    resolve_device,
)
from components.joint_training import (
    NO_LABEL,
    Example,
    TrainingConfig,
    TrainingReport,
    fine_tune,
)

__all__ = [
    "HEADS_FILE",
    "LABELS_FILE",
    "IntentSentimentModel",
    "LabelledText",
    "ModelLoadError",
    "NgramSpec",
    "Prediction",
    "TrainingConfig",
    "TrainingReport",
]

LABELS_FILE = "labels.json"
HEADS_FILE = "heads.safetensors"


@dataclass(frozen=True)
class LabelledText:
    """One training text; a missing label means that head does not learn from it."""

    text: str
    intent: str | None = None  # None = sentiment-only example (e.g. review corpus)
    sentiment: str | None = None  # None = no sentiment label


@dataclass(frozen=True)
class Prediction:
    """Both rankings for one text: all labels, sorted desc, plain floats, sum 1."""

    intent_ranking: tuple[tuple[str, float], ...]
    sentiment_ranking: tuple[tuple[str, float], ...]


class IntentSentimentModel:
    """Fine-tunes and applies the joint intent + sentiment classifier.

    Build it with `from_backbone` (fresh heads) or `load` (a saved model).
    """

    def __init__(
        self,
        network: JointNetwork,
        tokenizer: PreTrainedTokenizerBase,
        intents: tuple[str, ...],
        sentiments: tuple[str, ...],
        max_length: int,
        trained: bool,
    ):
        self._network = network
        self._tokenizer = tokenizer
        self.intents = intents
        self.sentiments = sentiments
        self.max_length = max_length
        self._trained = trained

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
        max_length: int = 64,
        device: str = "auto",
        ngrams: NgramSpec | None = None,
    ) -> IntentSentimentModel:
        """Loads a pretrained encoder and its tokenizer and adds untrained heads.

        Args:
            model_name_or_path: A local directory (`save_pretrained` output) or a
                Hugging Face hub id (needs network unless already cached).
            intents: The intent labels, in a fixed order.
            sentiments: The sentiment labels, in a fixed order.
            max_length: Tokens kept per text; longer texts are truncated.
            device: "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
            ngrams: Shape of the hashed character n-gram table the heads also
                read; None for heads on the encoder alone.

        Returns:
            A model whose heads `fit` initialises from its seed.

        Raises:
            ModelLoadError: The encoder or tokenizer cannot be loaded.
            ValueError: Labels are empty or repeated, or the device is unknown.
        """
        labels = (
            _check_labels(intents, "intents"),
            _check_labels(sentiments, "sentiments"),
        )
        target = resolve_device(device)
        encoder, tokenizer = load_backbone(model_name_or_path)
        network = JointNetwork(encoder, len(labels[0]), len(labels[1]), ngrams)
        network.to(target)
        check_max_length(max_length, encoder)
        return cls(network, tokenizer, *labels, max_length, trained=False)

    @classmethod
    def load(cls, directory: Path, device: str = "auto") -> IntentSentimentModel:
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
                f"{directory} is not a saved IntentSentimentModel: missing "
                f"{', '.join(missing)}. Save it again with IntentSentimentModel.save."
            )
        try:
            meta = json.loads((directory / LABELS_FILE).read_text(encoding="utf-8"))
            labels = tuple(meta["intents"]), tuple(meta["sentiments"])
            if meta["pooling"] != POOLING:
                raise ValueError(f"unsupported pooling {meta['pooling']!r}")
            ngrams = NgramSpec(**meta["ngrams"]) if meta.get("ngrams") else None
            encoder, tokenizer = load_backbone(str(directory))
            network = JointNetwork(encoder, len(labels[0]), len(labels[1]), ngrams)
            load_heads(network, directory / HEADS_FILE)
            max_length = int(meta["max_length"])
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
        return cls(network, tokenizer, *labels, max_length, trained=True)

    def save(self, directory: Path) -> None:
        """Writes encoder, tokenizer, heads and labels into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        self._network.encoder.save_pretrained(directory)
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
            "max_length": self.max_length,
            "pooling": POOLING,
            "ngrams": spec.to_dict() if (spec := self._network.ngram_spec) else None,
        }
        (directory / LABELS_FILE).write_text(json.dumps(meta, ensure_ascii=False))

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Prediction]:
        """Ranks all intents and sentiments for each text, one forward pass each."""
        if isinstance(texts, str):
            raise TypeError("predict takes a sequence of texts, not one string")
        self._network.eval()
        predictions: list[Prediction] = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                inputs = self._preprocess(texts[start : start + batch_size])
                intent_logits, sentiment_logits = self._forward(inputs)
                predictions.extend(self._postprocess(intent_logits, sentiment_logits))
        return predictions

    def fit(
        self,
        train: Sequence[LabelledText],
        dev: Sequence[LabelledText],
        config: TrainingConfig,
    ) -> TrainingReport:
        """Fine-tunes encoder and heads on the joint loss.

        Loss = CE(intent) over examples with an intent + `sentiment_loss_weight` *
        CE(sentiment) over examples with a sentiment. With a non-empty `dev` and
        `patience` > 0 training stops early and keeps the best dev-loss weights;
        otherwise the last weights are kept. The first fit of a fresh model
        initialises the heads from `config.seed`, so equal seeds give equal
        models on CPU.

        Raises:
            ValueError: No labelled example, or a label the model does not know.
        """
        examples, dev_examples = self._encode(train), self._encode(dev)
        if not examples:
            raise ValueError("fit needs at least one example with a label")
        if config.epochs < 1 or config.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        check_max_length(config.max_length, self._network.encoder)
        self.max_length = config.max_length
        if config.device != "auto":
            self._network.to(resolve_device(config.device))
        report = fine_tune(
            self._network,
            self._logits,
            examples,
            dev_examples,
            config,
            reset_heads=not self._trained,
        )
        self._trained = True
        return report

    # --- pipeline steps ------------------------------------------------------------

    def _preprocess(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        encoded = self._tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            **{
                key: encoded[key].to(self.device)
                for key in ("input_ids", "attention_mask")
            },
            **self._network.inputs(texts),
        }

    def _forward(
        self, inputs: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with autocast(self.device):
            intent_logits, sentiment_logits = self._network(**inputs)
        return intent_logits.float(), sentiment_logits.float()

    def _postprocess(
        self, intent_logits: torch.Tensor, sentiment_logits: torch.Tensor
    ) -> Iterator[Prediction]:
        intent_probs = torch.softmax(intent_logits, dim=-1).cpu().tolist()
        sentiment_probs = torch.softmax(sentiment_logits, dim=-1).cpu().tolist()
        for intent_row, sentiment_row in zip(
            intent_probs, sentiment_probs, strict=True
        ):
            yield Prediction(
                _ranking(self.intents, intent_row),
                _ranking(self.sentiments, sentiment_row),
            )

    def _logits(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self._forward(self._preprocess(texts))

    def _encode(self, examples: Sequence[LabelledText]) -> list[Example]:
        encoded = []
        for example in examples:
            intent = _index(self.intents, example.intent, example.text)
            sentiment = _index(self.sentiments, example.sentiment, example.text)
            if intent != NO_LABEL or sentiment != NO_LABEL:
                encoded.append((example.text, intent, sentiment))
        return encoded


# --- helpers ---------------------------------------------------------------------


def _check_labels(labels: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(labels, str) or not labels or len(set(labels)) != len(labels):
        raise ValueError(f"{what} must be a non-empty sequence of distinct labels")
    return tuple(labels)


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
