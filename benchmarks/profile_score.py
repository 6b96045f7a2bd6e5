"""Where `readiness score` spends its time: each stage timed, with every stage in one thread.

The validating thread is off (:data:`scoring.pipeline.VALIDATE_AHEAD`) and each chunk is
written where it is scored, so the stages' seconds add up (only Arrow's CSV parse still runs
ahead on its reader thread). Stages nest: ``score_chunk`` holds ``score_frame``, which holds
the scorer's and the explainer's steps. Uses the model and the sample files of
``bench_score.py`` (run it once first)::

    .venv/bin/python benchmarks/profile_score.py                 # 1M English rows
    .venv/bin/python benchmarks/profile_score.py --lang fa --rows 200000
"""

from __future__ import annotations

import argparse
import functools
import importlib
import time
from collections import Counter

from bench_read import sample_paths
from bench_score import MODEL, REGISTRY

#: (module, attribute path) of each timed stage.
STAGES = [
    ("scoring.pipeline", "normalize_chunk"),
    ("scoring.validation", "Validator.validate"),
    ("scoring.batch", "score_chunk"),
    ("scoring.batch", "score_frame"),
    ("scoring.batch", "_features"),
    ("scoring.compiled", "CompiledScorer.indices"),
    ("scoring.compiled", "CompiledScorer.contributions_at"),
    ("scoring.explain", "Explainer.reason_ids"),
    ("scoring.explain", "Explainer.dimension_scores"),
    ("scoring.explain", "Explainer.sector_percentile"),
    ("scoring.model", "tier_codes"),
    ("scoring.drift", "DriftMonitor.update"),
    ("scoring.batch", "_write_piece"),
    ("scoring.writing", "_neutralise"),
    ("scoring.writing", "csv_rows"),
]


def timed(seconds: Counter, calls: Counter) -> None:
    """Wrap every stage so that its calls and seconds are counted."""
    for module_name, path in STAGES:
        owner = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        original = getattr(owner, name)
        label = f"{module_name.split('.')[-1]}.{path}"

        @functools.wraps(original)
        def wrapper(*args, _original=original, _label=label, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds[_label] += time.perf_counter() - started
                calls[_label] += 1

        setattr(owner, name, wrapper)
        # A stage imported by name elsewhere is called through that name: wrap it there too.
        for user in ("scoring.batch", "scoring.pipeline", "scoring.writing"):
            module = importlib.import_module(user)
            if getattr(module, name, None) is original:
                setattr(module, name, wrapper)


class _Inline:
    """Stands in for the writing thread: each chunk is written where it is scored."""

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, job) -> None:
        job()

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lang", choices=["en", "fa"], default="en", help="which sample file")
    parser.add_argument("--chunk-size", type=int, default=100_000)
    args = parser.parse_args()
    import scoring.batch as batch
    import scoring.pipeline as pipeline
    from scoring.model import ScoringModel
    from scoring.registry import load_model

    seconds, calls = Counter(), Counter()
    timed(seconds, calls)
    pipeline.VALIDATE_AHEAD = False
    batch._WriteBehind = _Inline
    model = ScoringModel(load_model(REGISTRY, MODEL))
    path = sample_paths(args.rows)[args.lang]
    out = path.with_name(f"profile-{args.lang}.csv")
    started, cpu = time.perf_counter(), time.process_time()
    batch.score_file(path, model, out, chunk_size=args.chunk_size)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    out.unlink(missing_ok=True)
    print(f"{path.name}: {wall:.2f} s, {cpu:.2f} s of CPU (the reader thread's included)")
    for label, spent in sorted(seconds.items(), key=lambda item: -item[1]):
        print(f"{spent:7.3f} s {calls[label]:5d} calls  {label}")


if __name__ == "__main__":
    main()
