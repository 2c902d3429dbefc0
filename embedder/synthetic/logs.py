"""A seeded synthetic ratings log with MovieLens-25M's shape, written in ml-25m's file format.

``make_log(SyntheticSpec())`` draws 25,000,095 ratings by 162,541 users of
59,047 movies: ratings per user are heavy-tailed (at least 20, median 70,
one user with 32,202), movie popularity is Zipf-like, ratings are half stars
with ml-25m's shares, and timestamps run from 1995 to 2019 in sessions.
Structure is planted for the embeddings to find: every movie belongs to a
taste cluster named after its primary genre, and every user draws about half
of their ratings from one or two favourite clusters (the rest by popularity).
``write_movielens`` writes ``ratings.csv``, ``movies.csv``, ``links.csv`` and
a README atomically; :func:`embedder.ratings.readers.read_dataset` reads the
folder like a real MovieLens release.  ``python build.py synthetic`` is the
command.  Other specs make other logs: the built-in demo
(:mod:`embedder.ratings.demo`) is a small one with its own clusters.
"""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from embedder.errors import BuildError, ConfigError
from embedder.ratings.cell_values import split_genres
from embedder.synthetic.movies import GENRES, TASTES, Catalogue, Taste, make_catalogue
from embedder.synthetic.race import draw_pairs
from embedder.synthetic.sampling import favourites, half_stars, timestamps, user_lengths
from embedder.values import Dataset, Interactions, Movies

#: The first line of the README of every folder ``write_movielens`` makes; only such folders are replaced.
MARK = "Synthetic MovieLens-25M-shaped ratings log, made by reelspace"
_WRITE_ROWS = 1 << 21  # rows of ratings.csv formatted at a time


@dataclass(frozen=True)
class SyntheticSpec:
    """The shape of a synthetic log; the defaults are ml-25m's.

    ``ratings``, ``users`` and ``movies`` are exact (every movie is rated at
    least once).  Ratings per user are at least ``min_length``, have median
    ``median_length``, and the longest user has exactly ``max_length``.
    movieIds are distinct draws from ``1..max_movie_id``.  The movie of
    popularity rank r (from 0) has weight ``(r + zipf_offset) ** -zipf_exponent``.
    ``clusters`` planted taste clusters, the first of ``tastes`` (by default
    the largest of the 18 genres); ``taste_share`` of a user's draws go to
    their favourite clusters, the rest follow global popularity, and ratings
    in their first and second favourite score ``taste_bonus`` higher.
    ``period`` holds the first and last timestamp; ``stickiness`` bunches a
    user's ratings of one cluster in time.  A share ``new_releases`` of the
    movies came out during the period (in movieId order), the rest around
    their cluster's era, all within ``years``.  A movie lists its cluster's
    genre and ``i`` related ones with probability ``genre_counts[i]``; up to
    ``unlisted_genres`` of the least popular list none.  Everything is drawn
    from ``seed``.
    """

    ratings: int = 25_000_095
    users: int = 162_541
    movies: int = 59_047
    median_length: int = 70
    min_length: int = 20
    max_length: int = 32_202
    max_movie_id: int = 209_171
    zipf_exponent: float = 2.1
    zipf_offset: float = 120.0
    clusters: int = 18
    tastes: tuple[Taste, ...] = field(default=TASTES, repr=False, hash=False)
    taste_share: float = 0.5
    taste_bonus: tuple[float, float] = (0.5, 0.35)
    new_releases: float = 0.6
    years: tuple[int, int] = (1902, 2019)
    genre_counts: tuple[float, ...] = (0.38, 0.36, 0.18, 0.08)
    unlisted_genres: float = 0.16
    period: tuple[int, int] = (789_652_009, 1_574_327_703)  # ml-25m's first and last rating: 1995-01-09, 2019-11-21
    stickiness: float = 1.0
    seed: int = 0

    def scaled(self, fraction: float) -> SyntheticSpec:
        """The same shape at ``fraction`` of the size.

        Ratings and users scale by ``fraction`` (so the mean and median user
        length stay); movies, the longest user and the id range by its square
        root, as catalogues grow more slowly than logs.
        """
        if not 0 < fraction <= 1:
            raise ConfigError(f"the scale must be in (0, 1], got {fraction:g}")
        root = fraction ** 0.5
        movies = max(self.clusters, round(self.movies * root))
        return replace(self, ratings=round(self.ratings * fraction), users=max(3, round(self.users * fraction)),
                       movies=movies, max_length=min(movies, max(self.median_length, round(self.max_length * root))),
                       max_movie_id=max(movies, round(self.max_movie_id * root)))


def check_spec(spec: SyntheticSpec) -> None:
    """Raise ConfigError naming the first impossible field of ``spec``."""
    problems = (
        (spec.seed < 0, f"the seed must be 0 or more, got {spec.seed}"),
        (spec.users < 3, f"users must be at least 3, got {spec.users}"),
        (not 1 <= spec.min_length <= spec.median_length <= spec.max_length,
         f"need 1 <= min_length <= median_length <= max_length, got {spec.min_length}, {spec.median_length}, "
         f"{spec.max_length}"),
        (spec.max_length > spec.movies, f"max_length ({spec.max_length}) exceeds the movies ({spec.movies})"),
        (spec.movies > spec.max_movie_id, f"max_movie_id ({spec.max_movie_id}) is below the movies ({spec.movies})"),
        (not 1 <= spec.clusters <= min(len(spec.tastes), spec.movies),
         f"clusters must be 1..{len(spec.tastes)} and at most the movies, got {spec.clusters}"),
        (not {g for t in spec.tastes for g in t.genres} <= set(GENRES), "the tastes' genres must be MovieLens genres"),
        (not 0 <= spec.taste_share < 1, f"taste_share must be in [0, 1), got {spec.taste_share}"),
        (not 0 <= spec.new_releases <= 1 or not 0 <= spec.unlisted_genres <= 1 or spec.stickiness < 0,
         "new_releases and unlisted_genres must be in [0, 1] and stickiness 0 or more"),
        (spec.years[0] > spec.years[1] or spec.period[0] >= spec.period[1],
         f"years {spec.years} and period {spec.period} must each run forwards"),
        (min(spec.genre_counts, default=-1) < 0 or sum(spec.genre_counts) <= 0,
         "genre_counts must be shares, not all 0"),
        (spec.zipf_exponent <= 0 or spec.zipf_offset < 0, "zipf_exponent must be > 0 and zipf_offset >= 0"),
        (spec.ratings < max(spec.movies, spec.users * spec.min_length + spec.max_length - spec.min_length),
         f"{spec.ratings:,} ratings are too few for {spec.users:,} users of at least {spec.min_length} ratings "
         f"and {spec.movies:,} movies rated at least once"),
        (spec.ratings > spec.users * spec.max_length, f"{spec.ratings:,} ratings exceed {spec.users:,} users x "
                                                      f"{spec.max_length:,}"),
        (spec.users.bit_length() + max(spec.movies, spec.max_length).bit_length() > 40,
         "too many users and movies (the keys are packed in 63 bits)"),
    )
    for bad, problem in problems:
        if bad:
            raise ConfigError(f"synthetic log: {problem}")


@dataclass(frozen=True)
class SyntheticLog:
    """A generated log, rows in ml-25m's order (by user, then movieId).

    ``user`` is 0-based (userId = user + 1); ``movie`` indexes the catalogue;
    ``stars`` are half stars 1..10 (rating = stars / 2).  ``favourite`` holds
    each user's planted favourite clusters, -1 where there is no second.
    """

    spec: SyntheticSpec
    catalogue: Catalogue
    user: np.ndarray  # int32
    movie: np.ndarray  # int32
    stars: np.ndarray  # uint8
    timestamp: np.ndarray  # int64
    favourite: np.ndarray  # int16, (users, 2)

    def __len__(self) -> int:
        return len(self.user)


def make_log(spec: SyntheticSpec) -> SyntheticLog:
    """Draw the log ``spec`` describes; the same spec gives identical arrays."""
    check_spec(spec)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(6)]
    lengths = user_lengths(spec.users, spec.ratings, spec.min_length, spec.median_length, spec.max_length, streams[0])
    catalogue = make_catalogue(spec, streams[1])
    favourite, lean = favourites(spec.users, np.array([t.audience for t in spec.tastes[:spec.clusters]]), streams[2])
    keys = draw_pairs(lengths, catalogue.cluster, catalogue.weight, favourite, lean, spec.taste_share, streams[3])
    user = (keys // spec.movies).astype(np.int32)
    movie = (keys % spec.movies).astype(np.int32)
    del keys
    stars = half_stars(user, movie, catalogue.cluster, catalogue.weight, favourite, spec.taste_bonus, streams[4])
    when = timestamps(user, movie, catalogue.cluster, lengths, spec.period, spec.stickiness, streams[5])
    return SyntheticLog(spec, catalogue, user, movie, stars, when, favourite)


@dataclass(frozen=True)
class LogStats:
    """The shape of a log, as printed by ``build.py synthetic`` and written to its README."""

    ratings: int
    users: int
    movies: int
    min_length: int
    median_length: float
    mean_length: float
    max_length: int
    top_movie_count: int
    top_percent_share: float  # share of all ratings held by the most-rated 1% of movies
    item_gini: float
    mean_rating: float
    rating_shares: dict[float, float]

    def summary(self) -> str:
        """One line: the counts and the shape."""
        return (f"{self.ratings:,} ratings, {self.users:,} users, {self.movies:,} movies; ratings per user: "
                f"median {self.median_length:g}, max {self.max_length:,}; most-rated movie {self.top_movie_count:,} "
                f"ratings; top 1% of movies hold {self.top_percent_share:.0%}")


def log_stats(log: SyntheticLog) -> LogStats:
    """Count the shape of ``log``."""
    lengths = np.bincount(log.user, minlength=log.spec.users)
    counts = np.sort(np.bincount(log.movie, minlength=len(log.catalogue)))[::-1]
    share = np.bincount(log.stars, minlength=11)[1:] / len(log)
    gini = 1 - 2 * np.sum(np.cumsum(counts[::-1]) / counts.sum()) / len(counts) + 1 / len(counts)
    return LogStats(
        ratings=len(log), users=int((lengths > 0).sum()), movies=int((counts > 0).sum()),
        min_length=int(lengths.min()), median_length=float(np.median(lengths)), mean_length=float(lengths.mean()),
        max_length=int(lengths.max()), top_movie_count=int(counts[0]),
        top_percent_share=float(counts[:max(1, len(counts) // 100)].sum() / len(log)), item_gini=float(gini),
        mean_rating=float((share * np.arange(1, 11)).sum() / 2),
        rating_shares={(i + 1) / 2: round(float(v), 4) for i, v in enumerate(share)})


def to_dataset(log: SyntheticLog, name: str = "synthetic") -> Dataset:
    """The log as a Dataset, as ``read_dataset`` would give it from the written folder."""
    movies = catalogue_movies(log.catalogue)
    interactions = Interactions(
        user_ids=np.arange(1, log.spec.users + 1).astype(str).astype(object), item_ids=movies.ids,
        user=log.user, item=log.movie, rating=(log.stars / 2).astype(np.float32), timestamp=log.timestamp)
    return Dataset(name=name, source=f"synthetic (seed {log.spec.seed})", interactions=interactions, movies=movies)


def catalogue_movies(cat: Catalogue, links: bool = True) -> Movies:
    """The catalogue as Movies: string ids, titles, years, genre tuples and (with ``links``) IMDb/TMDB ids."""
    labels, inverse = np.unique(cat.genres.astype(str), return_inverse=True)
    genres = [split_genres(label) for label in labels.tolist()]
    return Movies(ids=cat.ids.astype(str).astype(object), titles=cat.titles, years=cat.years,
                  genres=tuple(genres[i] for i in inverse), links={"imdb": cat.imdb, "tmdb": cat.tmdb} if links else {})


# --- the folder ---------------------------------------------------------------


def check_target(folder: Path, force: bool) -> None:
    """Refuse a folder we must not replace: a file, a non-empty folder we did not make, or ours without force."""
    if folder.exists() and not folder.is_dir():
        raise BuildError(f"{folder} exists and is not a directory; choose another folder")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not _made_here(folder):
        raise BuildError(f"refusing to replace {folder}: it is not empty and is not a synthetic log made by "
                         f"reelspace (choose a new folder)")
    if not force:
        raise BuildError(f"{folder} already holds a synthetic log; pass --force to replace it")


def _made_here(folder: Path) -> bool:
    try:
        with open(folder / "README.txt", encoding="utf-8") as readme:
            return readme.readline().strip() == MARK
    except (OSError, UnicodeDecodeError):
        return False


def write_movielens(spec: SyntheticSpec, folder, *, force: bool = False, progress: bool = False,
                    log: SyntheticLog | None = None) -> LogStats:
    """Write the log of ``spec`` (or ``log``) as an ml-25m folder; returns its shape.

    The files go to a sibling staging folder that replaces ``folder`` only
    once all are written, so an interrupted run leaves nothing half-written.
    An existing ``folder`` is replaced only when empty, or with ``force``
    when it holds an earlier synthetic log.
    """
    folder = Path(folder)
    check_spec(spec if log is None else log.spec)
    check_target(folder, force)
    log = make_log(spec) if log is None else log
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _write_ratings(log, staging / "ratings.csv", progress)
        _write_rows(staging / "movies.csv", ("movieId", "title", "genres"),
                    zip(log.catalogue.ids.tolist(), log.catalogue.titles, log.catalogue.genres))
        _write_rows(staging / "links.csv", ("movieId", "imdbId", "tmdbId"),
                    zip(log.catalogue.ids.tolist(), log.catalogue.imdb, log.catalogue.tmdb))
        stats = log_stats(log)
        (staging / "README.txt").write_text(_readme(log.spec, stats), encoding="utf-8")
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return stats


def _write_ratings(log: SyntheticLog, path: Path, progress: bool) -> None:
    """``userId,movieId,rating,timestamp`` with ratings like ``4.0``, formatted by pyarrow in chunks."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    text = pa.array([f"{s / 2:.1f}" for s in range(11)])
    ids = log.catalogue.ids
    chunks = range(0, len(log), _WRITE_ROWS)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc="ratings.csv", unit="chunk", leave=False)
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with open(path, "wb") as out:
        out.write(b"userId,movieId,rating,timestamp\n")
        writer = None
        for start in chunks:
            rows = slice(start, start + _WRITE_ROWS)
            table = pa.table({"userId": log.user[rows] + 1, "movieId": ids[log.movie[rows]],
                              "rating": pc.take(text, pa.array(log.stars[rows])), "timestamp": log.timestamp[rows]})
            writer = writer or pcsv.CSVWriter(out, table.schema, write_options=options)
            writer.write_table(table)
        if writer is not None:
            writer.close()


def _write_rows(path: Path, header, rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _readme(spec: SyntheticSpec, stats: LogStats) -> str:
    clusters = ", ".join(t.name for t in spec.tastes[:spec.clusters])
    shares = ", ".join(f"{k:.1f}: {v:.1%}" for k, v in stats.rating_shares.items())
    return f"""{MARK}
{"=" * len(MARK)}

This is NOT MovieLens data.  No real person, movie or rating is in it: every
row was drawn from a random generator (reelspace, embedder/synthetic/) to
have the shape of MovieLens 25M, in the ml-25m file format (ratings.csv,
movies.csv, links.csv).  Titles, genres and IMDb/TMDB ids are made up.

Spec:       {spec!r}
            (embedder.synthetic.logs.write_movielens(spec, folder) writes the same bytes again)

Shape:      {stats.summary()}
            ratings per user: min {stats.min_length}, mean {stats.mean_length:.1f}
            item Gini {stats.item_gini:.3f}; mean rating {stats.mean_rating:.2f}
            rating shares: {shares}

Planted structure: every movie belongs to a taste cluster named after its
primary genre (listed in its genres unless "(no genres listed)"); every user
favours one or two clusters and draws about {spec.taste_share:.0%} of their ratings from them.
Clusters:   {clusters}
"""


def _swap_in(staging: Path, folder: Path) -> None:
    from embedder.output import swap_folder

    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    swap_folder(staging, folder, old)
    shutil.rmtree(old, ignore_errors=True)
