"""Wall-clock timing: one block (``Timer``) or the named stages of a run (``Stages``).

::

    with Timer() as timer:          # timer.seconds: wall seconds, summed over every use
        train()

    stages = Stages(total=4, progress=True)   # one progress bar on stderr over 4 stages
    with stages.stage("read"):
        ...
    stages.close()                  # stages.timings == {"read": 1.2, ...}
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Timer:
    """Wall seconds of a block: ``with timer: ...`` then ``timer.seconds`` (summed over uses)."""

    seconds: float = 0.0
    _start: float = field(default=0.0, repr=False)

    def __enter__(self) -> "Timer":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        self.seconds += time.perf_counter() - self._start
        return False


class Stages:
    """Wall seconds per named stage, and optionally one progress bar over the stages.

    ``with stages.stage(name): ...`` adds the block's seconds to
    ``timings[name]`` (a stage entered twice sums its times) and, with
    ``progress``, names the stage (or its ``label``) on a tqdm bar of
    ``total`` steps (on stderr, cleared when done) and advances it by one
    when the stage ends.
    A stage that raises is neither timed nor counted.  ``close()`` (or
    leaving ``with Stages(...)``) removes the bar.
    """

    def __init__(self, total: int | None = None, *, progress: bool = False, desc: str = "build", unit: str = "stage"):
        self.timings: dict[str, float] = {}
        self._bar = None
        if progress:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr)

    @contextmanager
    def stage(self, name: str, label: str | None = None):
        if self._bar is not None:
            self._bar.set_postfix_str(name if label is None else label)
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False
