"""An evaluation's figures as a value: a table for the terminal, JSON, and the site's model card.

``Report`` is what ``runner.run`` returns.  ``table()`` is the readable text
``build.py evaluate`` prints, ``to_dict()`` its ``--json`` form (every field
documented in ``FIELDS``), and ``card()`` what the index page's "Model card"
section shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from embedder.invocation import command
from embedder.ratings.catalogue import rating_count

#: What every row of the JSON holds (the tests check that each is present).
FIELDS = {
    "method": "name of the method (and its settings)",
    "family": "baseline, item2vec or recommender (the build's own recommender when it is not Word2Vec's)",
    "default": "true for the scoring the build uses for recommendations",
    "settings": "the method's settings",
    "hr": "HR@10: share of users whose held-out movie is in their top 10",
    "hr_se": "standard error of HR@10 over users",
    "hr_std": "standard deviation of HR@10 over seeds (null with one seed)",
    "ndcg": "NDCG@10 (1/log2(rank+2) for a hit)",
    "ndcg_std": "standard deviation of NDCG@10 over seeds (null with one seed)",
    "coverage": "catalogue coverage@10: share of movies in at least one top-10 list",
    "genre_jaccard": "mean genre Jaccard of the 10 nearest neighbours of movies with >= 10 training ratings",
    "next_hr": "next-item HR@10 ranking by similarity to the user's last training movie",
    "next_ndcg": "next-item NDCG@10, the same way",
    "train_seconds": "wall seconds to train the model (mean over seeds)",
}


@dataclass
class Row:
    """One method's figures (means over seeds where the method is seeded)."""

    method: str
    family: str
    settings: dict
    hr: float
    hr_se: float
    ndcg: float
    coverage: float
    genre_jaccard: float | None
    next_hr: float | None
    next_ndcg: float | None
    train_seconds: float
    default: bool = False
    hr_std: float | None = None
    ndcg_std: float | None = None
    hits: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """The row's ``FIELDS`` as plain JSON values."""
        return {name: _plain(getattr(self, name)) for name in FIELDS}


@dataclass
class Report:
    """An evaluation: where, how, and the figures."""

    dataset: dict
    split: dict
    random_jaccard: float
    settings: dict
    tuned: dict
    rows: list[Row]
    comparisons: list[dict]
    seeds: list[int]
    seconds: float = 0.0

    def default_row(self) -> Row | None:
        """The row of the build's recommendation scoring (None in the users-as-words orientation)."""
        return next((row for row in self.rows if row.default), None)

    def to_dict(self) -> dict:
        """Everything, as plain JSON values (no per-user arrays)."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "k": 10,
            "random_genre_jaccard": round(self.random_jaccard, 4),
            "settings": self.settings,
            "tuned_on_val": self.tuned,
            "seeds": self.seeds,
            "rows": [row.to_dict() for row in self.rows],
            "comparisons": self.comparisons,
            "seconds": round(self.seconds, 1),
            "fields": FIELDS,
        }

    def table(self) -> str:
        """The figures as a text table with a header and footnotes."""
        d, s = self.dataset, self.split
        lines = [
            f"reelspace evaluate: {d['name']} ({d['ratings']:,} ratings), {s['name']} split "
            f"({s.get('protocol', 'leave-last-out by time')}): {_held_out(s)} of each of {s['users']:,} users held out "
            f"(users with >= {s['min_ratings']} ratings); full ranking over {s['catalogue']:,} movies, rated ones excluded",
            f"seeds {', '.join(map(str, self.seeds))}; ± is the standard error over users"
            + (" (and over seeds after /)" if len(self.seeds) > 1 else ""),
            "",
        ]
        header = ["method", "HR@10", "NDCG@10", "cov@10", "gJac@10", "next HR@10", "train s"]
        body = [[("* " if r.default else "  ") + r.method, _pm(r.hr, r.hr_se, r.hr_std), _num(r.ndcg, r.ndcg_std),
                 f"{r.coverage:.3f}", _opt(r.genre_jaccard, 3), _opt(r.next_hr, 4), f"{r.train_seconds:.1f}"]
                for r in self.rows]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        lines += [fmt(header), fmt(["-" * w for w in widths])] + [fmt(row) for row in body]
        lines += [
            "",
            f"* = the build's recommendation scoring.  gJac@10: genre Jaccard of the 10 nearest neighbours of the "
            f"{s['anchors']:,} movies with >= 10 training ratings; random neighbours: {self.random_jaccard:.3f}.",
            f"{s['unseen_targets']:,} held-out movies never occur in training (a miss for every method).",
        ]
        lines.append(self._tuned_text())
        for c in self.comparisons:
            lines.append(f"{c['a']} − {c['b']}: HR@10 {c['diff']:+.4f} (95% CI {c['low']:+.4f} … {c['high']:+.4f}, "
                         f"paired bootstrap over users), ratio {c['ratio']:.2f}")
        lines.append(f"evaluated in {self.seconds:.0f} s")
        return "\n".join(lines)

    def card(self) -> dict:
        """What the index page's model card shows."""
        s = self.split
        return {
            "split": (f"{s['name']} split ({s.get('protocol', 'leave-last-out by time')}): {_held_out(s)} of each of "
                      f"{s['users']:,} users (with >= {s['min_ratings']} ratings) held out; full ranking over "
                      f"{s['catalogue']:,} movies, rated ones excluded; {s['unseen_targets']:,} held-out movies never occur "
                      f"in training"),
            "anchors": f"{s['anchors']:,}",
            "tuned": self._tuned_text(),
            "random_jaccard": f"{self.random_jaccard:.3f}",
            "seeds": ", ".join(map(str, self.seeds)),
            "rows": [
                {
                    "method": r.method, "default": r.default, "family": r.family,
                    "hr": _pm(r.hr, r.hr_se, r.hr_std), "ndcg": _num(r.ndcg, r.ndcg_std), "coverage": f"{r.coverage:.3f}",
                    "genre_jaccard": _opt(r.genre_jaccard, 3), "next_hr": _opt(r.next_hr, 4),
                    "train_seconds": f"{r.train_seconds:.1f}",
                }
                for r in self.rows
            ],
            "comparisons": [
                f"{c['a']} − {c['b']}: HR@10 {c['diff']:+.4f} (95% CI {c['low']:+.4f} … {c['high']:+.4f}), ratio {c['ratio']:.2f}"
                for c in self.comparisons
            ],
        }

    def _tuned_text(self) -> str:
        tuned = self.tuned
        if tuned.get("note"):
            return tuned["note"]
        recent = tuned["ease_recent"]
        return (f"chosen on the val split by NDCG@10: EASE λ={tuned['ease']['lambda']:g}; "
                + (f"EASE · recent λ={recent['lambda']:g}, decay {recent['decay']:g}; " if recent["lambda"] is not None
                   else "no EASE · recent (the log has no order); ")
                + f"item-kNN {tuned['item_knn']['neighbours'] or 'all'} neighbours, shrink {tuned['item_knn']['shrink']:g}")


def _held_out(split: dict) -> str:
    """Which rating of each user a split holds out, in words."""
    if split.get("ordered", True):
        return "the last rated movie" if split["name"] == "test" else "the second-to-last rated movie"
    return "a random rated movie" if split["name"] == "test" else "a second random rated movie"


def _plain(value):
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else round(float(value), 5)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _pm(value: float, se: float, std: float | None) -> str:
    text = f"{value:.4f} ± {se:.4f}"
    return text + (f" / {std:.4f}" if std is not None else "")


def _num(value: float, std: float | None) -> str:
    return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")


def _opt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


# --- the site's model card ---------------------------------------------------

#: Where the build writes the model card's data (always: settings; with --evaluate: figures too).
MODEL_CARD_FILE = "data/model_card.json"


def card_context(training: dict, dataset, report: Report | None, *, map_figures: dict | None = None,
                 recommender=None) -> dict:
    """The index page's "Model card": data, order, the map (``embedder.maps.stage.index_fields``), the
    recommender and why, and (after ``--evaluate``) the figures.

    ``training`` is ``BuildConfig.training_settings()``; ``recommender`` the
    build's ``embedder.model.recommender.Recommender`` (None: the explorer's cosine).
    """
    order = getattr(dataset, "order", None)
    sentences = "time-ordered sentences" if order is None or order.kind == "time" else (
        "sentences in the file's order" if order.kind == "file" else
        "sentences reshuffled every epoch (the log has no order)" if training["word2vec"].get("shuffle") else
        "sentences in one random order (the log has no order)")
    return {
        "data": f"{dataset.name}: {rating_count(dataset):,} ratings by {len(dataset.interactions.user_ids):,} users "
                f"of {len(dataset.movies):,} movies",
        "order": None if order is None else f"{order.describe()}; evaluation protocol: {order.protocol()}",
        "map": f"Word2Vec input vectors (cosine neighbours), {sentences}",
        "support": None if map_figures is None else map_figures["support"],
        "layout": None if map_figures is None else map_figures["quality"],
        "recommendations": ("cosine of the user's and each movie's vector" if recommender is None
                            else recommender.describe),
        "recommendations_why": None if recommender is None else recommender.why,
        "evaluation": None if report is None else report.card(),
        "command": f"{command()} evaluate",
        "file": MODEL_CARD_FILE,
    }


def card_json(training: dict, dataset, report: Report | None, *, map_card: dict | None = None,
              recommender=None) -> bytes:
    """``data/model_card.json``: the settings (``BuildConfig.training_settings()``, with the fitted recommender's),
    order and map (``embedder.maps.stage.card_fields``) always, the evaluation when there is one."""
    order = getattr(dataset, "order", None)
    doc = {
        "dataset": {"name": dataset.name, "ratings": rating_count(dataset),
                    "users": len(dataset.interactions.user_ids), "movies": len(dataset.movies)},
        "order": None if order is None else order.as_dict(),
        "settings": training if recommender is None else {**training, "recommendations": recommender.settings},
        "recommender": None if recommender is None else {"describe": recommender.describe, "why": recommender.why},
        "map": map_card,
        "evaluation": None if report is None else report.to_dict(),
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
