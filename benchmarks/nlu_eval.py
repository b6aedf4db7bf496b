"""Shared pieces of the NLU evaluation scripts: test data, parsing, sentiment scores.

Used by ``benchmarks.sentiment_report`` (``make sentiment-report``) and
``benchmarks.nlu_bench`` (``make bench-nlu``). Parsing goes through a loaded Rasa
model exactly as ``/model/parse`` does, so what is measured is what users get.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.training_examples import labelled_examples
from nlu.constants import SENTIMENT, SENTIMENT_RANKING

if TYPE_CHECKING:
    from nlu.model import LabelledText

# snownlp's score is P(positive); its classifier is binary, so the middle band of
# this width around 0.5 is read as neutral on the three-way test labels.
SNOWNLP_NEUTRAL_BAND = (0.4, 0.6)


def load_test_examples(path: Path) -> list[LabelledText]:
    """Intent examples of a Rasa NLU file with their ``metadata.sentiment``.

    The same reader as training (``components.training_examples``), so a test
    file follows the training data's rules.
    """
    from rasa.shared.nlu.training_data.loading import load_data

    return labelled_examples(load_data(str(path)))


def load_agent(model: Path) -> Any:
    """A Rasa agent with the newest model in ``model`` (a file or a folder)."""
    from rasa.core.agent import Agent
    from rasa.model import get_local_model

    return Agent.load(get_local_model(str(model)))


def parse_all(
    agent: Any, texts: Sequence[str]
) -> tuple[list[dict[str, Any]], list[float]]:
    """Parses each text alone, in order; returns the results and seconds each."""

    async def run() -> tuple[list[dict[str, Any]], list[float]]:
        results, seconds = [], []
        for text in texts:
            started = time.perf_counter()
            results.append(await agent.parse_message(text))
            seconds.append(time.perf_counter() - started)
        return results, seconds

    return asyncio.run(run())


def predicted_sentiment(parse: dict[str, Any]) -> str | None:
    """The sentiment label a parse result carries, if any."""
    sentiment = parse.get(SENTIMENT)
    return sentiment.get("name") if isinstance(sentiment, dict) else None


def polar_sentiment(parse: dict[str, Any]) -> str | None:
    """Positive or negative, whichever scores higher: for two-way review labels.

    The review corpus has no neutral class, so a three-way model is scored on it
    the way ChnSentiCorp results are reported: by the better of the two poles.
    """
    ranking = parse.get(SENTIMENT_RANKING)
    if not isinstance(ranking, list):
        return None
    scores = {r.get("name"): float(r.get("confidence", 0.0)) for r in ranking}
    if "positive" not in scores and "negative" not in scores:
        return None
    positive, negative = scores.get("positive", 0.0), scores.get("negative", 0.0)
    return "positive" if positive >= negative else "negative"


def snownlp_sentiment(text: str, three_way: bool) -> str:
    """The reference: snownlp's own classifier (trained on its whole corpus)."""
    from snownlp import SnowNLP

    score = float(SnowNLP(text).sentiments) if text.strip() else 0.5
    low, high = SNOWNLP_NEUTRAL_BAND
    if three_way and low < score < high:
        return "neutral"
    return "positive" if score >= 0.5 else "negative"


def accuracy(gold: Sequence[str | None], predicted: Sequence[str | None]) -> float:
    """Share of equal labels over the pairs whose gold label is known."""
    pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g is not None]
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else float("nan")


def classification_report(
    gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> dict[str, Any]:
    """scikit-learn's report as a dict (a missing prediction counts as wrong)."""
    from sklearn.metrics import classification_report as report

    filled = [p if p is not None else "none" for p in predicted]
    result: dict[str, Any] = report(
        list(gold), filled, labels=list(labels), output_dict=True, zero_division=0
    )
    return result


def plot_confusion_matrix(
    gold: Sequence[str],
    predicted: Sequence[str | None],
    labels: Sequence[str],
    path: Path,
    title: str,
) -> None:
    """Writes a confusion-matrix PNG (rows gold, columns predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    filled = [p if p is not None else "none" for p in predicted]
    display = ConfusionMatrixDisplay.from_predictions(
        list(gold), filled, labels=list(labels), cmap="Blues", colorbar=False
    )
    display.ax_.set_title(title)
    display.figure_.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    display.figure_.savefig(path, dpi=120)
    plt.close(display.figure_)


def span_f1(
    gold: Sequence[Sequence[tuple[str, int, int]]],
    predicted: Sequence[Sequence[tuple[str, int, int]]],
) -> dict[str, float]:
    """Exact-span F1 per entity type, their macro average and the micro F1.

    A predicted entity counts only with the right type, start and end; types
    only predicted count too (their F1 is 0).
    """
    types = sorted({s[0] for spans in (*gold, *predicted) for s in spans})
    scores: dict[str, float] = {}
    totals = [0, 0, 0]  # true positives, predicted, gold
    for entity in types:
        hits = found = expected = 0
        for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
            g = {s for s in gold_spans if s[0] == entity}
            p = {s for s in predicted_spans if s[0] == entity}
            hits, found, expected = hits + len(g & p), found + len(p), expected + len(g)
        scores[entity] = _f1(hits, found, expected)
        totals = [totals[0] + hits, totals[1] + found, totals[2] + expected]
    scores["macro"] = (
        sum(scores[t] for t in types) / len(types) if types else float("nan")
    )
    scores["micro"] = _f1(*totals)
    return scores


def _f1(hits: int, found: int, expected: int) -> float:
    return 2 * hits / (found + expected) if found + expected else 0.0
