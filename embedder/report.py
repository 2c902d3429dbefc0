"""What a build did: counts, timings, where the site is -- and the few lines the terminal shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from embedder.invocation import command
from embedder.site.pages import human_size


@dataclass
class BuildReport:
    """What a build did, for the summary line and the benchmark."""

    dataset: str
    out_dir: str
    ratings: int
    users: int
    movies: int
    shapes: dict[str, tuple[int, int]]
    timings: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    site_bytes: int = 0
    projector_link: str | None = None
    tensorboard_logdir: str | None = None
    # One line per embedder beside Word2Vec (figures, build time, cache).
    models: tuple[str, ...] = ()
    # What the projector files hold, by tensor name, where support or --max-points cut them.
    projector_points: dict[str, str] = field(default_factory=dict)
    # The support rule and what the default map keeps (embedder.maps.summary_lines).
    map_lines: tuple[str, ...] = ()
    # Whether each user's ratings have an order (embedder.order.LogOrder.describe).
    order: str = ""

    def summary(self) -> str:
        """A few lines for the terminal: counts, timings, where the site is and how to open it."""
        total = sum(self.timings.values())
        lines = [
            f"reelspace: built {self.dataset} into {self.out_dir}/ in {total:.1f} s ({human_size(self.site_bytes)})",
            f"  {self.ratings:,} ratings, {self.users:,} users, {self.movies:,} movies",
        ]
        if self.order:
            lines.append(f"  the log is {self.order}")
        lines += [f"  {name}: {n:,} x {d}" + (f" (projector: {self.projector_points[name]})"
                                             if name in self.projector_points else "")
                  for name, (n, d) in self.shapes.items()]
        lines += [f"  {line}" for line in self.map_lines]
        lines += [f"  {line}" for line in self.models]
        lines.append("  " + " · ".join(f"{stage} {seconds:.1f}s" for stage, seconds in self.timings.items()))
        cmd = command()
        lines.append(f"  open it:  python -m http.server -d {self.out_dir}   then http://localhost:8000/")
        lines.append(f"  explore:  http://localhost:8000/explorer.html  (or open {self.out_dir}/explorer.html from disk)")
        if self.projector_link:
            lines.append(f"  share it: publish {self.out_dir}/ at the --base-url, then {self.projector_link}")
        else:
            lines.append("  share it: rebuild with --base-url https://USER.github.io/REPO/ for an Embedding Projector link")
        lines.append(f"  publish:  {cmd} publish gh-pages --site {self.out_dir}   (or: publish gist)")
        if self.tensorboard_logdir:
            lines.append(f"  tensorboard: tensorboard --logdir {self.tensorboard_logdir}")
        return "\n".join(lines)
