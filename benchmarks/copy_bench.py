"""Campaign copy drafting benchmark: templates and local Qwen models side by side.

``make bench-copy``: every brief of ``benchmarks/copy_briefs.yml``
(:mod:`benchmarks.copy_briefs`) is drafted ``--samples`` times by each backend
(the templates, Qwen2.5-Coder-0.5B-Instruct and -1.5B-Instruct of
``make assets-llm``) through :class:`copywriting.drafting.CopyDrafter`, as
``aurora-marketing copy`` drafts: its tidying, its checks (ad law, facts,
length, size) and its near-duplicate drops. Each backend runs in its own child
process, so the load time and peak memory (``ru_maxrss``) are that backend's
alone (``USE_TF=0``: transformers leaves Rasa's TensorFlow unimported). Per
backend the report gives the share of drafts passing each check and all of
them, the kinds of invented facts, empty drafts, distinct-2 diversity, seconds
per draft (mean, median, p95), generated tokens per second, load time and peak
RSS, side by side in one Markdown table, with a passing and a failing draft of
each; ``--json`` keeps every sample (default ``.runtime/bench-copy.json``).

Sampling is the backend's own (temperature and top-p of
:mod:`copywriting.transformers_backend`); the seed of each sample is fixed
(``--seed`` plus its position), so a rerun, or one with ``--limit``, draws the
same drafts on the same machine and library versions. A model that is not there
is reported as not built and skipped.

Usage: ``python -m benchmarks.copy_bench [--samples 1] [--limit N]
[--backends template,qwen-0.5b,qwen-1.5b] [--qwen-0.5b PATH] [--qwen-1.5b PATH]
[--json PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.copy_briefs import BRIEFS_PATH, load_briefs
from benchmarks.copy_stats import (
    DRAFT,
    DUPLICATE,
    EMPTY,
    ERROR,
    BackendRun,
    Sample,
    examples,
    markdown,
    summarize,
)
from catalog.loader import load_catalog
from copywriting.brief import CopyBrief
from copywriting.checks import DraftChecker
from copywriting.drafting import CopyDrafter, tidy
from copywriting.factory import Backend, build_backend
from copywriting.generator import CopyGenerator
from copywriting.request import CopyRequest
from copywriting.transformers_backend import (
    MAX_PROMPT_TOKENS,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    TransformersGenerator,
)
from marketing.settings import DEFAULT_COPY_MODEL, ROOT, Settings

TEMPLATE = "template"
# The local models, by column: the folders `make assets-llm` writes.
MODELS = {
    "qwen-0.5b": Path(ROOT / ".assets" / "qwen2.5-coder-0.5b-instruct-hf"),
    "qwen-1.5b": Path(DEFAULT_COPY_MODEL),
}
BACKENDS = (TEMPLATE, *MODELS)
DEFAULT_JSON = ROOT / ".runtime" / "bench-copy.json"
DEFAULT_SEED = 14
NOT_BUILT = "not built: run make assets-llm"


class _Recorder:
    """Passes requests to a backend and keeps its last raw answer."""

    def __init__(self, inner: CopyGenerator) -> None:
        self.inner = inner
        self.last = ""

    async def generate(self, request: CopyRequest) -> str:
        self.last = ""
        self.last = await self.inner.generate(request)
        return self.last


@dataclass(frozen=True)
class Child:
    """What one child process drafts with.

    Attributes:
        label: The backend's column (one of :data:`BACKENDS`).
        model: The model folder (``None`` for the templates).
        briefs: The brief file.
        samples: Samples per brief.
        limit: Only the first ``limit`` briefs (``None``: all).
        seed: The first sample's seed.
        device: ``auto``, ``cpu`` or ``cuda``.
    """

    label: str
    model: Path | None
    briefs: Path = BRIEFS_PATH
    samples: int = 1
    limit: int | None = None
    seed: int = DEFAULT_SEED
    device: str = "auto"


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def draft_briefs(
    backend: Backend,
    checker: DraftChecker,
    briefs: Sequence[CopyBrief],
    samples: int,
    seed: Callable[[int], None] = lambda _: None,
    count_tokens: Callable[[str], int] | None = None,
    progress: Callable[[Sample], None] = lambda _: None,
) -> list[Sample]:
    """Drafts every brief ``samples`` times, one draft per call, timed.

    Each call is :meth:`CopyDrafter.draft` for one sample, given the brief's
    drafts so far (its near-duplicate drop works as for ``n`` samples at once).

    Args:
        backend: Drafts.
        checker: Checks each draft.
        briefs: What to write about.
        samples: Samples per brief.
        seed: Called with each sample's position before it is drafted.
        count_tokens: Tokens in a raw answer (the model's tokenizer).
        progress: Called with each finished sample.
    """
    recorder = _Recorder(backend.generator)
    drafter = CopyDrafter(replace(backend, generator=recorder), checker)
    found = []
    for i, brief in enumerate(briefs):
        kept: list[str] = []
        for s in range(samples):
            seed(i * samples + s)
            started = time.perf_counter()
            batch = await drafter.draft(brief, 1, kept)
            seconds = time.perf_counter() - started
            raw = recorder.last
            if batch.errors:
                sample = Sample(i, s, seconds, ERROR, batch.errors[0], "")
            else:
                failures: tuple[tuple[str, str], ...] = ()
                status = EMPTY if batch.empty else DUPLICATE
                if batch.drafts:
                    status = DRAFT
                    kept.append(batch.drafts[0].text)
                    failures = tuple(
                        (f.check, f.detail) for f in batch.drafts[0].failures
                    )
                tokens = count_tokens(raw) if count_tokens else None
                sample = Sample(
                    i, s, seconds, status, raw, tidy(raw, brief), failures, tokens
                )
            found.append(sample)
            progress(sample)
    return found


def _no_seed(position: int) -> None:
    """The templates draw nothing at random."""


def _model_hooks(
    generator: CopyGenerator, first_seed: int
) -> tuple[Callable[[int], None], Callable[[str], int] | None, dict[str, Any]]:
    """For a local model: its seeding, token count and settings (loads it)."""
    if not isinstance(generator, TransformersGenerator):
        return _no_seed, None, {}
    import torch

    tokenizer, model, device = generator.load()

    def seed(position: int) -> None:
        torch.manual_seed(first_seed + position)

    def count_tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return (
        seed,
        count_tokens,
        {
            "device": device,
            "dtype": str(model.dtype).removeprefix("torch."),
            "do_sample": True,
            "temperature": TEMPERATURE,
            "top_p": TOP_P,
            "top_k": TOP_K,
            "repetition_penalty": REPETITION_PENALTY,
            "max_new_tokens": generator.max_new_tokens,
            "max_prompt_tokens": MAX_PROMPT_TOKENS,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
    )


def run_child(child: Child) -> BackendRun:
    """Loads the backend and drafts every brief: the child process's work."""
    briefs = load_briefs(child.briefs)[: child.limit]
    rss_before = _peak_rss_mib()
    started = time.perf_counter()
    settings = replace(Settings(), device=child.device)
    if child.model is None:
        backend = build_backend(settings, TEMPLATE)
    else:
        backend = build_backend(settings, "transformers", str(child.model))
    seed, count_tokens, model_settings = _model_hooks(backend.generator, child.seed)
    run_settings = {"samples": child.samples, "seed": child.seed, **model_settings}
    load_seconds = time.perf_counter() - started
    checker = DraftChecker(load_catalog())
    total = len(briefs) * child.samples

    def progress(sample: Sample) -> None:
        done = sample.brief * child.samples + sample.sample + 1
        print(
            f"[{child.label}] {done}/{total} {sample.seconds:.1f} s {sample.status}",
            file=sys.stderr,
            flush=True,
        )

    samples = asyncio.run(
        draft_briefs(
            backend, checker, briefs, child.samples, seed, count_tokens, progress
        )
    )
    if run_settings.get("device") == "cuda":
        import torch

        run_settings["gpu_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return BackendRun(
        label=child.label,
        model=backend.model,
        samples=tuple(samples),
        load_seconds=load_seconds,
        rss_before_load_mib=rss_before,
        peak_rss_mib=_peak_rss_mib(),
        settings=run_settings,
    )


def measure(child: Child) -> BackendRun:
    """Runs ``child`` in its own process; a missing model or failed child is a row."""
    if child.model is not None and not child.model.exists():
        return BackendRun(child.label, str(child.model), skipped=NOT_BUILT)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.copy_bench",
            "--child",
            child.label,
            str(out),
            "--briefs",
            str(child.briefs),
            "--samples",
            str(child.samples),
            "--seed",
            str(child.seed),
            "--device",
            child.device,
        ]
        if child.limit is not None:
            command += ["--limit", str(child.limit)]
        if child.model is not None:
            command += [f"--{child.label}", str(child.model)]
        # TensorFlow is installed for Rasa; transformers would import it too.
        env = {**os.environ, "USE_TF": "0"}
        done = subprocess.run(command, check=False, env=env)
        if done.returncode != 0 or not out.exists():
            return BackendRun(
                child.label,
                str(child.model or TEMPLATE),
                skipped=f"failed (exit {done.returncode})",
            )
        return BackendRun.from_dict(json.loads(out.read_text(encoding="utf-8")))


def _dest(label: str) -> str:
    return label.replace("-", "_").replace(".", "_")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--briefs", type=Path, default=BRIEFS_PATH)
    parser.add_argument(
        "--samples", type=int, default=1, help="Drafts per brief (default 1)."
    )
    parser.add_argument("--limit", type=int, help="Only the first N briefs.")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"Comma-separated, of {', '.join(BACKENDS)}.",
    )
    for label, path in MODELS.items():
        parser.add_argument(
            f"--{label}",
            dest=_dest(label),
            type=Path,
            default=path,
            help=f"Model folder (default {path}).",
        )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help="Every sample, as JSON."
    )
    parser.add_argument(
        "--child", nargs=2, metavar=("LABEL", "OUT"), help=argparse.SUPPRESS
    )
    return parser


def _meta(args: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    ).stdout.strip()
    return {
        "date": datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "command": " ".join(["python -m benchmarks.copy_bench", *argv]),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "briefs": str(args.briefs),
        "samples": args.samples,
        "limit": args.limit,
        "seed": args.seed,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Runs every backend and prints the table; 1 when a backend's child failed."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    models: dict[str, Path] = {label: getattr(args, _dest(label)) for label in MODELS}

    def child(label: str) -> Child:
        return Child(
            label,
            models.get(label),
            args.briefs,
            args.samples,
            args.limit,
            args.seed,
            args.device,
        )

    if args.child:
        label, out = args.child
        run = run_child(child(label))
        Path(out).write_text(
            json.dumps(asdict(run), ensure_ascii=False), encoding="utf-8"
        )
        return 0
    labels = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in labels if b not in BACKENDS]
    if unknown:
        raise SystemExit(f"unknown backend(s) {unknown}; use {', '.join(BACKENDS)}")
    briefs = load_briefs(args.briefs)[: args.limit]
    runs = [measure(child(label)) for label in labels]
    summaries = [summarize(r) for r in runs]
    print(
        f"\nCopy drafting: {len(briefs)} briefs × {args.samples} sample(s), "
        f"seed {args.seed}\n"
    )
    print(markdown(summaries))
    titles = [f"{b.kind} {b.title}, {b.tone}" for b in briefs]
    for run in runs:
        if run.skipped is None:
            print(f"\n{run.label} ({run.model}), settings {run.settings}:\n")
            print("\n".join(examples(run, titles)))
    payload = {
        "meta": _meta(args, argv),
        "summaries": [asdict(s) for s in summaries],
        "runs": [asdict(r) for r in runs],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    print(f"\nEvery sample: {args.json}")
    failed = any(r.skipped and r.skipped != NOT_BUILT for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
