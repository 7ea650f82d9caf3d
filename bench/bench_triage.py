"""Training time and single-core classification throughput of the message classifier.

Run from the repository root::

    .venv/bin/python bench/bench_triage.py                   # the shared training file
    .venv/bin/python bench/bench_triage.py --data FILE --recipe NAME --repeats 5

It pins itself to one CPU and holds OpenMP/MKL/OpenBLAS to one thread, then, for the
default recipe and for a baseline (TF-IDF of jieba words + complement naive Bayes, the
textbook setup), in the same run:

- trains on the whole file, as ``gongzhi triage train --cv-repeats 0`` does (for an SVM or
  ridge this includes fitting its probability scale by an inner 3-fold CV), best of
  ``--repeats``;
- classifies every message of the file, in batches of 256 and one message per call (as
  intake calls ``propose``), median of ``--repeats`` passes, and reports messages/s;
- saves and loads the model (the artifact's size, and the load time a process pays once).

It prints the machine (CPU model, cores, RAM, load, Python and library versions) and checks
the bars of issue 4: training under 60 s, at least 1,000 messages/s on one core (in batches;
one message per call is reported as latency). Exit status 1 when the recipe misses a bar.
This is a benchmark: no test runs it.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
SHARED_TRAIN = REPO / ".." / "shared" / "data" / "messages" / "train.csv"
BASELINE = "word-cnb"
TRAIN_BAR_S = 60.0
THROUGHPUT_BAR = 1000.0


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram": ram,
        "load_average": " ".join(f"{x:.2f}" for x in load),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "libraries": ", ".join(
            f"{p} {version(p)}"
            for p in ("numpy", "scipy", "scikit-learn", "jieba", "threadpoolctl")
        ),
    }


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def read(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def measure(name: str, texts: list[str], labels: list[str], repeats: int) -> dict[str, Any]:
    from gongzhi.triage.estimator import TextClassifier
    from gongzhi.triage.recipes import RECIPES

    recipe = RECIPES[name]
    train_times = []
    model = None
    for _ in range(repeats):
        seconds, model = timed(lambda: TextClassifier.fit(recipe, texts, labels))
        train_times.append(seconds)
    assert model is not None
    blob = model.dumps()
    load_s, loaded = timed(lambda: TextClassifier.loads(blob))
    batch_rates, single_rates = [], []
    for _ in range(repeats):
        seconds, _r = timed(
            lambda: [loaded.predict_proba(texts[i : i + 256]) for i in range(0, len(texts), 256)]
        )
        batch_rates.append(len(texts) / seconds)
        sample = texts[: min(len(texts), 1000)]
        seconds, _r = timed(lambda: [loaded.predict_proba([t]) for t in sample])  # noqa: B023
        single_rates.append(len(sample) / seconds)
    predicted = loaded.predict(texts)
    return {
        "recipe": name,
        "train_s": min(train_times),
        "train_all_s": train_times,
        "batch_rate": statistics.median(batch_rates),
        "single_rate": statistics.median(single_rates),
        "artifact_bytes": len(blob),
        "load_s": load_s,
        "features": loaded.coef.shape[1],
        "training_accuracy": sum(p == t for p, t in zip(predicted, labels, strict=True))
        / len(labels),
    }


def main() -> int:
    from gongzhi.triage.recipes import DEFAULT, RECIPES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_TRAIN)
    parser.add_argument("--recipe", default=DEFAULT, choices=sorted(RECIPES))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data file at {args.data}", file=sys.stderr)
        return 2
    pinned = pin_one_core()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    texts, labels = read(args.data)
    from gongzhi.triage.text import _jieba

    jieba_s, _t = timed(_jieba)  # a process pays this once, before the first word recipe

    print(f"# bench_triage, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for key, value in machine().items():
        print(f"{key:>14}: {value}")
    print(f"{'process':>14}: {pinned}; OMP/MKL/OpenBLAS threads 1")
    print(
        f"{'data':>14}: {args.data.resolve()} ({len(texts)} messages, "
        f"mean {statistics.fmean(len(t) for t in texts):.0f} characters)"
    )
    print(f"{'jieba init':>14}: {jieba_s:.2f} s (dictionary load, once per process)")
    print()
    results = [measure(args.recipe, texts, labels, args.repeats)]
    if args.recipe != BASELINE:
        results.append(measure(BASELINE, texts, labels, args.repeats))
    header = (
        f"{'recipe':<34} {'train s':>8} {'msg/s batch':>12} {'msg/s single':>13} "
        f"{'features':>9} {'artifact':>10} {'load s':>7} {'train acc':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['recipe']:<34} {r['train_s']:8.2f} {r['batch_rate']:12.0f} "
            f"{r['single_rate']:13.0f} "
            f"{r['features']:9d} {r['artifact_bytes'] / 2**20:8.2f} MB {r['load_s']:7.2f} "
            f"{r['training_accuracy']:9.4f}"
        )
    print()
    main_result = results[0]
    ok_train = main_result["train_s"] < TRAIN_BAR_S
    ok_rate = main_result["batch_rate"] >= THROUGHPUT_BAR
    verdict = {True: "yes", False: "NO"}
    print(f"training {main_result['train_s']:.1f} s < {TRAIN_BAR_S:.0f} s: {verdict[ok_train]}")
    print(
        f"throughput {main_result['batch_rate']:.0f} msg/s >= {THROUGHPUT_BAR:.0f} on one core: "
        f"{verdict[ok_rate]} (one message per call: "
        f"{1000 / main_result['single_rate']:.2f} ms a message)"
    )
    return 0 if ok_train and ok_rate else 1


if __name__ == "__main__":
    sys.exit(main())
