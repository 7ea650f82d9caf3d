"""Speed of the duplicate finder's scoring, against plain shingle Jaccard, on one core.

Run from the repository root::

    .venv/bin/python bench/bench_duplicates.py              # hot_issues of the shared data
    .venv/bin/python bench/bench_duplicates.py --data FILE --candidates 500 --repeats 5

The live finder (``triage.queries.duplicate_candidates``) scores one new case against at
most ``duplicates.CANDIDATE_CAP`` (500) open cases of its street. This benchmark does the
same with the shared messages: each of ``--new`` messages in turn is the new one and the
``--candidates`` messages before it in the file are the candidates. It reports, for the
finder (``duplicates.score_many`` and ``rank_candidates``) and for the baseline (the
5-character shingle Jaccard of ``near_duplicates``, shingles built for every call, as a
finder without a cache would), candidates scored per second (median of ``--repeats``
passes) and the time of one whole ranking. It pins itself to one CPU and prints the machine.
The database query is not included (see docs/triage.md). This is a benchmark: no test runs it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
SHARED = REPO / ".." / "shared" / "data" / "hot_issues" / "messages_with_votes.csv"


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
    }


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity here)"


def rate(fn: Callable[[], int], repeats: int) -> tuple[float, float]:
    """(median candidates per second, median seconds per pass)."""
    rates, seconds = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        n = fn()
        elapsed = time.perf_counter() - started
        rates.append(n / elapsed)
        seconds.append(elapsed)
    return statistics.median(rates), statistics.median(seconds)


def main() -> int:
    from gongzhi.triage.duplicate_evaluation import read_messages
    from gongzhi.triage.duplicates import clear_feature_cache, rank_candidates, score_many
    from gongzhi.triage.near_duplicates import jaccard, shingles

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--new", type=int, default=20, help="how many new messages to rank")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"no data file at {args.data}", file=sys.stderr)
        return 2
    pinned = pin_one_core()
    messages = list(read_messages(args.data).values())
    k = args.candidates
    if len(messages) < k + args.new:
        print(f"need at least {k + args.new} messages", file=sys.stderr)
        return 2
    rounds = [(messages[i + k], messages[i : i + k]) for i in range(args.new)]

    def finder() -> int:
        for new, pool in rounds:
            clear_feature_cache()  # a first view: every candidate's features computed
            score_many(new, pool)
        return k * len(rounds)

    def ranking() -> int:
        for new, pool in rounds:
            clear_feature_cache()
            rank_candidates(new, pool)
        return k * len(rounds)

    # Views again of cases whose candidates were scored a moment ago: features from the
    # per-process cache (one pass to fill it, not timed; the rounds' texts fit in it).
    for new, pool in rounds:
        score_many(new, pool)

    def repeated() -> int:
        for new, pool in rounds:
            score_many(new, pool)
        return k * len(rounds)

    def baseline() -> int:
        for new, pool in rounds:
            sn = shingles(f"{new.title}{new.text}")
            for c in pool:
                jaccard(sn, shingles(f"{c.title}{c.text}"))
        return k * len(rounds)

    print(f"# bench_duplicates, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    for key, value in machine().items():
        print(f"{key:>14}: {value}")
    print(f"{'process':>14}: {pinned}")
    mean_chars = statistics.fmean(len(m.title) + len(m.text) for m in messages)
    print(
        f"{'data':>14}: {args.data.resolve()} ({len(messages)} messages, "
        f"mean {mean_chars:.0f} characters)"
    )
    print(f"{'workload':>14}: {args.new} new messages x {k} candidates, {args.repeats} passes")
    print()
    header = f"{'scorer':<44} {'candidates/s':>13} {'ms per new case':>16}"
    print(header)
    print("-" * len(header))
    for name, fn in (
        ("finder: score_many (text, place, time)", finder),
        ("finder: rank_candidates (score, sort, top 5)", ranking),
        ("finder: score_many again (features cached)", repeated),
        ("baseline: 5-shingle Jaccard", baseline),
    ):
        per_second, seconds = rate(fn, args.repeats)
        print(f"{name:<44} {per_second:13.0f} {1000 * seconds / len(rounds):16.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
