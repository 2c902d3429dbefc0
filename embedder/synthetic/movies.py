"""The movie catalogue of a synthetic log (:mod:`embedder.synthetic.logs`): clusters, popularity, years, genres.

Every movie belongs to one planted *taste cluster* (a :class:`Taste`) named
after its primary MovieLens genre; its ``genres`` cell always lists that
genre (unless it is ``(no genres listed)``, as for 1 movie in 12 of ml-25m)
plus related ones, its release year is a new release of the log's years or
from the cluster's era, and its title is made from the cluster's words
(:mod:`embedder.synthetic.titles`).  Popularity is Zipf-like:
``weight ∝ (rank + offset) ** -exponent``, where the rank favours low
movieIds (the long-listed ones) and each cluster's appeal.  Everything is
vectorised over movies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from embedder.synthetic.titles import make_titles

if TYPE_CHECKING:
    from embedder.synthetic.logs import SyntheticSpec


@dataclass(frozen=True)
class Taste:
    """One planted cluster: a primary genre, how common it is, its era and its words."""

    name: str
    genre: str  # the primary genre, listed for every movie of the cluster
    catalogue: float  # share of movies in this cluster
    audience: float  # share of users whose favourite cluster this is
    appeal: float  # added to the log-popularity rank score
    era: tuple[float, float]  # mean and spread of the release years of its movies that are not new releases
    related: dict[str, float]  # secondary genres and their weights
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]

    @property
    def genres(self) -> tuple[str, ...]:
        """The genres its movies may list: the primary one first."""
        return (self.genre, *self.related)


def taste(genre: str, catalogue: float, audience: float, appeal: float, era: tuple[float, float],
          related: dict[str, float], adjectives: str, nouns: str, name: str | None = None) -> Taste:
    """A Taste from space-separated word lists, named after its genre unless ``name`` is given."""
    return Taste(name or genre, genre, catalogue, audience, appeal, era, related, tuple(adjectives.split()),
                 tuple(nouns.split()))


#: The planted clusters, largest first; ``SyntheticSpec.clusters`` keeps the first n.
TASTES: tuple[Taste, ...] = (
    taste("Drama", .27, .20, 0.0, (1988, 22),
          {"Romance": 3, "Comedy": 2, "Crime": 2, "Thriller": 1, "War": 1, "Mystery": 1},
          "Quiet Broken Distant Bitter Final Open Second Long Silent Ordinary Fragile Last",
          "River Mother Winter Promise Letter House Daughter Road Years Bridge Harvest Silence"),
    taste("Comedy", .19, .16, 0.3, (1993, 18),
          {"Romance": 3, "Drama": 3, "Crime": 1, "Children": 1, "Fantasy": 1, "Musical": .5},
          "Crazy Totally Big Lucky Dumb Wild Awkward Accidental Happy Naughty Super Hopeless",
          "Wedding Weekend Roommates Vacation Party Boss Neighbours Office Plan Uncle Road-Trip Reunion"),
    taste("Documentary", .08, .02, -1.0, (2007, 9),
          {"Drama": 1, "War": .3, "Musical": .3},
          "Hidden Untold Real True Inside Unseen Living Forgotten Secret Fragile Wild Deep",
          "Planet Ocean Story Truth Earth Voices Climate Mountain Archive Frontier Record Witness"),
    taste("Action", .07, .12, 0.8, (1998, 14),
          {"Adventure": 3, "Thriller": 3, "Sci-Fi": 2, "Crime": 2, "Comedy": 1, "IMAX": .3},
          "Maximum Lethal Hard Rogue Extreme Deadly Fast Iron Total Rapid Final Brutal",
          "Force Impact Strike Target Fury Protocol Mercenary Fire Payback Vengeance Showdown Pursuit"),
    taste("Horror", .07, .04, -0.2, (1995, 18),
          {"Thriller": 3, "Mystery": 1, "Comedy": 1, "Sci-Fi": 1},
          "Cursed Hollow Bloody Dead Hungry Midnight Pale Rotten Whispering Crawling Unholy Sinister",
          "House Night Grave Woods Ritual Mirror Cellar Asylum Doll Curse Orphan Basement"),
    taste("Thriller", .06, .07, 0.3, (1996, 16),
          {"Crime": 3, "Drama": 2, "Mystery": 2, "Action": 2, "Horror": 1},
          "Cold Blind Hidden Fatal Perfect Dangerous Twisted Dark Double Silent Deadly Sleeping",
          "Witness Stranger Motive Game Obsession Trap Memory Alibi Window Code Deception Agenda"),
    taste("Romance", .05, .05, 0.0, (1987, 22),
          {"Drama": 3, "Comedy": 3, "Musical": .5},
          "Sweet Endless Summer Paper Golden Tender Only First Secret Little Perfect Starry",
          "Heart Kiss Love Affair Valentine Sunset Honeymoon Bride Serenade Romance Dance Season"),
    taste("Crime", .05, .06, 0.3, (1985, 21),
          {"Drama": 3, "Thriller": 3, "Mystery": 1, "Film-Noir": .3, "Action": 1},
          "Dirty Crooked Bad Wise Cold Violent Undercover Stolen Dead Corrupt Gangland Hard",
          "City Heist Score Street Contract Mob Racket Family Money Deal Gang Kingpin"),
    taste("Adventure", .025, .06, 0.8, (1988, 22),
          {"Action": 3, "Fantasy": 2, "Children": 1, "Sci-Fi": 1, "IMAX": .3},
          "Lost Great Golden Forbidden Hidden Savage Wild Brave Ancient Secret Mighty Far",
          "Island Treasure Temple Expedition Jungle Quest Kingdom Voyage Legend Map Empire Journey"),
    taste("Sci-Fi", .025, .07, 0.7, (1994, 19),
          {"Action": 3, "Adventure": 2, "Thriller": 1, "IMAX": .3},
          "Dark Infinite Quantum Red Outer Alien Last Silent Cold Digital Stellar Synthetic",
          "Galaxy Horizon Machine Star Orbit Colony Signal Planet Android Singularity Nebula Dimension"),
    taste("Animation", .025, .04, 0.6, (2003, 14),
          {"Children": 4, "Comedy": 2, "Fantasy": 1, "Adventure": 2},
          "Little Magic Happy Tiny Flying Brave Super Jolly Funny Sparkly Fuzzy Clever",
          "Dragon Bunny Robot Penguin Balloon Toybox Snowman Kitten Monsters Pirates Dinosaur Turtles"),
    taste("Children", .015, .025, 0.2, (1994, 17),
          {"Animation": 2, "Comedy": 3, "Fantasy": 2, "Adventure": 2},
          "Amazing Happy Magic Lucky Little Silly Giant Secret Talking Clumsy Fearless Incredible",
          "Puppy Pony Treehouse Camp Friends Christmas Holiday Bear Zoo Circus School Treasure"),
    taste("Mystery", .015, .025, 0.1, (1975, 24),
          {"Thriller": 3, "Crime": 2, "Drama": 2, "Horror": 1},
          "Vanishing Missing Strange Hidden Curious Locked Silent Crimson Lonely Veiled Puzzling Secret",
          "Lady Key Room Clue Manor Disappearance Inspector Affair Portrait Riddle Lighthouse Case"),
    taste("Fantasy", .015, .03, 0.5, (1999, 16),
          {"Adventure": 3, "Comedy": 2, "Children": 1, "Animation": 1},
          "Enchanted Dark Crystal Elven Cursed Immortal Sacred Shadow Wizard Frozen Eternal Mystic",
          "Sword Realm Throne Sorcerer Spell Prophecy Castle Unicorn Oracle Kingdom Crown Amulet"),
    taste("War", .012, .015, 0.0, (1965, 20),
          {"Drama": 3, "Action": 2, "Adventure": 1},
          "Fallen Bloody Brave Last Silent Distant Iron Burning Forgotten Lost Few Hollow",
          "Battalion Front Beach Bridge Siege Platoon Squadron Trenches Line Hill Regiment Command"),
    taste("Western", .012, .01, -0.3, (1960, 13),
          {"Action": 2, "Drama": 2, "Adventure": 1, "Comedy": 1},
          "Lonesome Dusty Savage High Wicked Rough Hard Quick Bitter Magnificent Lone Golden",
          "Canyon Frontier Rider Trail Ridge Sheriff Outlaw Gunfighter Ranch Posse Saloon Mesa"),
    taste("Musical", .008, .01, -0.3, (1956, 15),
          {"Comedy": 2, "Romance": 2, "Drama": 1, "Animation": .5},
          "Singing Dancing Merry Starlit Jolly Lively Moonlit Swinging Happy Sunny Gay Rhythmic",
          "Melody Broadway Parade Ballroom Rhythm Songbird Waltz Showboat Follies Cabaret Jubilee Revue"),
    taste("Film-Noir", .004, .005, -0.4, (1948, 5),
          {"Crime": 3, "Thriller": 2, "Mystery": 2, "Drama": 1},
          "Naked Dark Crooked Deadly Black Scarlet Desperate Hollow Lonely Strangled Brass Midnight",
          "Street Alibi Dame Venetian Kill Detour Widow Dossier Sidewalk Shadow Racket Angel"),
)

#: The genre labels of ml-25m (alphabetical) and its label for a movie without genres.
GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class Catalogue:
    """The synthetic movies, sorted by ``ids``; ``weight`` sums to 1."""

    ids: np.ndarray  # int32 movieIds, sparse and increasing
    cluster: np.ndarray  # int16 index into the spec's tastes
    weight: np.ndarray  # float64 Zipf-like popularity
    titles: np.ndarray  # object: "Title (year)"
    genres: np.ndarray  # object: "Action|Comedy" or NO_GENRES
    years: np.ndarray  # int32
    imdb: np.ndarray  # object: 7-digit zero-padded
    tmdb: np.ndarray  # object: "" where missing

    def __len__(self) -> int:
        return len(self.ids)


def make_catalogue(spec: SyntheticSpec, rng: np.random.Generator) -> Catalogue:
    """Draw the movies of ``spec``: ids in ``1..max_movie_id``, a cluster each, years, titles, genres, links."""
    n_movies, tastes = spec.movies, spec.tastes[:spec.clusters]
    ids = np.sort(rng.choice(spec.max_movie_id, size=n_movies, replace=False) + 1).astype(np.int32)
    shares = np.array([t.catalogue for t in tastes])
    cluster = rng.choice(len(tastes), size=n_movies, p=shares / shares.sum()).astype(np.int16)
    cluster[rng.choice(n_movies, size=len(tastes), replace=False)] = np.arange(len(tastes))  # none left empty
    weight = _popularity(cluster, tastes, spec.zipf_exponent, spec.zipf_offset, rng)
    titles, years = make_titles(cluster, _years(cluster, tastes, spec, rng), tastes, spec.years[1], rng)
    return Catalogue(ids=ids, cluster=cluster, weight=weight, titles=titles, years=years,
                     genres=_genres(cluster, weight, tastes, spec.genre_counts, spec.unlisted_genres, rng),
                     **_links(n_movies, rng))


def _popularity(cluster, tastes, exponent, offset, rng):
    """Zipf–Mandelbrot weights over a rank that favours low movieIds and appealing clusters."""
    n = len(cluster)
    listed_early = 1.0 - np.arange(n) / n  # ids are sorted: early ids were listed longest
    appeal = np.array([t.appeal for t in tastes])[cluster]
    score = rng.standard_normal(n) + 1.2 * listed_early + appeal
    rank = np.empty(n)
    rank[np.argsort(-score, kind="stable")] = np.arange(n)
    weight = (rank + offset) ** -exponent
    return weight / weight.sum()


def _years(cluster, tastes, spec, rng):
    """Release years: new releases follow the movieId order through the log's years, the rest the cluster's era.

    Years outside ``spec.years`` are reflected back into it.
    """
    n, (first, last) = len(cluster), spec.years
    log_first, log_last = np.array(spec.period, dtype="datetime64[s]").astype("datetime64[Y]").astype(int) + 1970
    new = log_first - 1 + (log_last - log_first + 1) * np.arange(n) / max(n - 1, 1) + rng.normal(0, 1.5, n)
    mean, spread = np.array([t.era for t in tastes], dtype=float).T
    old = rng.normal(mean[cluster], spread[cluster])
    years = np.rint(np.where(rng.random(n) < spec.new_releases, new, old))
    years = np.where(years > last, 2 * last - years, years)
    years = np.where(years < first, 2 * first - years, years)
    return np.clip(years, first, last).astype(np.int32)


def _genres(cluster, weight, tastes, counts, unlisted, rng):
    """The primary genre plus ``i`` related ones with probability ``counts[i]``, alphabetical.

    The less popular a movie, the likelier (up to ``unlisted``) it has none listed.
    """
    n, index = len(cluster), {g: i for i, g in enumerate(GENRES)}
    related = np.zeros((len(tastes), len(GENRES)))
    for c, t in enumerate(tastes):  # one row per cluster
        for genre, w in t.related.items():
            related[c, index[genre]] = w
    with np.errstate(divide="ignore"):
        score = np.log(related[cluster]) + rng.gumbel(size=(n, len(GENRES)))  # Gumbel-top-k: a weighted draw
    extra = rng.choice(len(counts), size=n, p=np.asarray(counts) / np.sum(counts))
    order = np.argsort(-score, axis=1)
    chosen = (np.arange(len(GENRES)) < extra[:, None]) & np.isfinite(np.take_along_axis(score, order, axis=1))
    bits = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(bits, np.nonzero(chosen)[0], 1 << order[chosen])
    primary = np.array([index[t.genre] for t in tastes])[cluster]
    bits |= 1 << primary.astype(np.int64)
    rank_fraction = np.argsort(np.argsort(-weight)) / n  # 0 for the most popular movie
    bits[rng.random(n) < unlisted * rank_fraction] = 0
    masks, inverse = np.unique(bits, return_inverse=True)
    labels = np.array(["|".join(g for i, g in enumerate(GENRES) if m >> i & 1) or NO_GENRES for m in masks.tolist()],
                      dtype=object)
    return labels[inverse]


def _links(n, rng):
    """Distinct IMDb ids (7 digits, zero-padded) and TMDB ids, a few TMDB ids missing."""
    imdb = rng.choice(9_999_000, size=n, replace=False) + 1_000
    tmdb = (rng.choice(699_000, size=n, replace=False) + 2).astype(str).astype(object)
    tmdb[rng.random(n) < 0.002] = ""
    padded = pc.utf8_lpad(pc.cast(pa.array(imdb), pa.string()), 7, "0")
    return {"imdb": np.array(padded.to_pylist(), dtype=object), "tmdb": tmdb}
