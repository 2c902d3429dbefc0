#!/usr/bin/env python3
"""Benchmark ``--engine spark`` as the log grows: the driver's peak memory and each stage's time.

    python benchmarks/bench_spark.py                                  # 1M, 5M and 25M ratings
    python benchmarks/bench_spark.py --sizes 1000000,5000000 --epochs 2

For each size it makes a seeded ``build.py synthetic`` log once (in
``--work``, default ``/tmp/reelspace-bench-spark``) and builds the site from
it with ``build.py --engine spark`` in a child process, sampling every
0.2 s the resident memory (``/proc``, Linux) of

* the driver's Python process (``build.py``: the site stages run there),
* the driver's JVM (Spark's ``SparkSubmit``: plans and receives results),
* the executors' JVMs (``--master local-cluster[...]``, the default, runs
  them as separate processes, as on a cluster; ``local[*]`` would run the
  executors inside the driver's JVM and measure them as the driver).

It prints the peaks, each stage's time (from the build's summary), the
driver's peaks during each stage, and the ratio of each driver peak to the
smallest log's: the driver receives
O(movies + users x k) values, so its peak should stay within ~20% while the
log grows 25x.  Spark's Word2Vec dominates the time (it runs on one core per
``--spark-word2vec-partitions``); ``--epochs`` (default 1) keeps the 25M run
under half an hour on two cores.  Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
print = __import__("functools").partial(print, flush=True)  # figures appear as they are measured


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,5000000,25000000", help="ratings per log, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("/tmp/reelspace-bench-spark"), help="logs and sites go here")
    parser.add_argument("--master", default="local-cluster[2,1,3072]", help="Spark master (default: two executor JVMs)")
    parser.add_argument("--epochs", type=int, default=1, help="Word2Vec epochs (default 1)")
    parser.add_argument("--partitions", type=int, default=2, help="--spark-word2vec-partitions (default 2)")
    parser.add_argument("build_args", nargs="*", help="more build.py options, after --")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    options = ["--engine", "spark", "--spark-master", args.master, "--epochs", str(args.epochs),
               "--spark-word2vec-partitions", str(args.partitions), "--layouts", "pca", "--no-tensorboard",
               *args.build_args]
    print(f"build.py {' '.join(options)}  (on {os.cpu_count()} cores)")
    rows = []
    for size in sizes:
        log = _synthetic(args.work / f"synthetic-{size}", size)
        out = args.work / f"site-{size}"
        started = time.perf_counter()
        peaks, stdout, samples = _measured([sys.executable, str(ROOT / "build.py"), "--ratings", str(log), "--out", str(out),
                                   *options])
        seconds = time.perf_counter() - started
        stages = _stages(stdout)
        rows.append((size, peaks, stages, seconds))
        print(f"\n{size:,} ratings: {seconds:.0f} s in all; driver peak: Python {_mb(peaks['python'])}, "
              f"JVM {_mb(peaks['driver jvm'])}, both {_mb(peaks['driver'])}; executors {_mb(peaks['executors'])}")
        print("  " + " · ".join(f"{name} {value:.1f}s" for name, value in stages.items()))
        print("  peak RSS by stage (Python / driver JVM): " + " · ".join(
            f"{name} {_mb(python)} / {_mb(jvm)}" for name, (python, jvm) in _stage_peaks(samples, stages).items()))
        print("  " + _counts(stdout))
    _table(rows)
    return 0


def _synthetic(folder: Path, size: int) -> Path:
    """The seeded synthetic log of ``size`` ratings, made once."""
    if not (folder / "ratings.csv").is_file():
        print(f"making {folder} ...")
        subprocess.run([sys.executable, str(ROOT / "build.py"), "synthetic", str(folder), "--ratings", str(size),
                        "--force", "-q"], check=True)
    return folder


def _measured(command: list[str]) -> tuple[dict[str, int], str, list]:
    """Run ``command``, sampling its processes' resident memory: ``(peaks in bytes, stdout, samples)``.

    ``samples`` are ``(seconds before the process ended, Python RSS, driver JVM RSS)``.
    """
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peaks = {"python": 0, "driver jvm": 0, "driver": 0, "executors": 0}
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            family = _descendants(child.pid)
            python = _rss(child.pid)
            driver = sum(_rss(p) for p in family if "SparkSubmit" in _cmdline(p))
            executors = sum(_rss(p) for p in family if "CoarseGrainedExecutorBackend" in _cmdline(p))
            for name, value in (("python", python), ("driver jvm", driver), ("driver", python + driver),
                                ("executors", executors)):
                peaks[name] = max(peaks[name], value)
            samples.append((time.perf_counter(), python, driver))
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stdout, stderr = child.communicate()
    ended = time.perf_counter()
    done.set()
    thread.join()
    if child.returncode:
        raise SystemExit(f"the build failed ({child.returncode}):\n{stderr[-3000:]}")
    return peaks, stdout, [(ended - at, python, driver) for at, python, driver in samples]


def _stage_peaks(samples: list, stages: dict[str, float]) -> dict[str, tuple[int, int]]:
    """The peak (Python, driver JVM) RSS during each stage, the stages laid back from the process's end.

    The summary's stage times run in order and end when the build writes its
    summary; what comes before the first stage is ``start`` (imports, settings).
    """
    bounds, end = {}, 0.0
    for name, seconds in reversed(list(stages.items())):
        bounds[name] = (end, end + seconds)
        end += seconds
    bounds = {"start": (end, float("inf")), **dict(reversed(list(bounds.items())))}
    return {name: (max((p for ago, p, _ in samples if low <= ago < high), default=0),
                   max((j for ago, _, j in samples if low <= ago < high), default=0))
            for name, (low, high) in bounds.items()}


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc's parent links)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stages(stdout: str) -> dict[str, float]:
    """The build summary's stage line: ``read 12.3s · sentences 4.5s · ...``."""
    for line in stdout.splitlines():
        if " · " in line and re.search(r"\bread [\d.]+s", line):
            return {m.group(1): float(m.group(2)) for m in re.finditer(r"([a-z][a-z0-9 ]*?) ([\d.]+)s", line.strip())}
    return {}


def _counts(stdout: str) -> str:
    return next((line.strip() for line in stdout.splitlines() if " ratings, " in line and " users, " in line), "")


def _mb(value: int) -> str:
    return f"{value / 2**20:,.0f} MB"


def _table(rows) -> None:
    if not rows:
        return
    base = rows[0][1]
    print("\n| ratings | driver peak (Python + JVM) | × smallest | Python | driver JVM | executors | total s |")
    print("|---|---|---|---|---|---|---|")
    for size, peaks, _, seconds in rows:
        print(f"| {size:,} | {_mb(peaks['driver'])} | {peaks['driver'] / max(base['driver'], 1):.2f} | "
              f"{_mb(peaks['python'])} | {_mb(peaks['driver jvm'])} | {_mb(peaks['executors'])} | {seconds:.0f} |")
    names = list(dict.fromkeys(name for row in rows for name in row[2]))
    print("\n| ratings | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for size, _, stages, _ in rows:
        print(f"| {size:,} | " + " | ".join(f"{stages.get(name, 0):.1f}" for name in names) + " |")


if __name__ == "__main__":
    sys.exit(main())
