"""The movie catalogue of the synthetic MovieLens-25M-shaped log (:mod:`embedder.synthetic.logs`).

Every movie belongs to one planted *taste cluster*, named after its primary
MovieLens genre; its ``genres`` cell always lists that genre (unless it is
``(no genres listed)``, as for 1 movie in 12 of ml-25m) plus related ones,
and its title is made from the cluster's words.  Popularity is Zipf-like:
``weight ∝ (rank + offset) ** -exponent``, where the rank favours low
movieIds (the long-listed ones) and each cluster's appeal.  Everything is
vectorised over movies; strings are assembled with pyarrow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Taste:
    """One planted cluster: a primary genre, how common it is, and its words."""

    genre: str
    catalogue: float  # share of movies whose primary genre this is
    audience: float  # share of users whose favourite cluster this is
    appeal: float  # added to the log-popularity rank score
    related: dict[str, float]  # secondary genres and their weights
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]


def _t(genre, catalogue, audience, appeal, related, adjectives, nouns):
    return Taste(genre, catalogue, audience, appeal, related, tuple(adjectives.split()), tuple(nouns.split()))


#: The planted clusters, largest first; ``SyntheticSpec.clusters`` keeps the first n.
TASTES: tuple[Taste, ...] = (
    _t("Drama", .27, .20, 0.0, {"Romance": 3, "Comedy": 2, "Crime": 2, "Thriller": 1, "War": 1, "Mystery": 1},
       "Quiet Broken Distant Bitter Final Open Second Long Silent Ordinary Fragile Last",
       "River Mother Winter Promise Letter House Daughter Road Years Bridge Harvest Silence"),
    _t("Comedy", .19, .16, 0.3, {"Romance": 3, "Drama": 3, "Crime": 1, "Children": 1, "Fantasy": 1, "Musical": .5},
       "Crazy Totally Big Lucky Dumb Wild Awkward Accidental Happy Naughty Super Hopeless",
       "Wedding Weekend Roommates Vacation Party Boss Neighbours Office Plan Uncle Road-Trip Reunion"),
    _t("Documentary", .08, .02, -1.0, {"Drama": 1, "War": .3, "Musical": .3},
       "Hidden Untold Real True Inside Unseen Living Forgotten Secret Fragile Wild Deep",
       "Planet Ocean Story Truth Earth Voices Climate Mountain Archive Frontier Record Witness"),
    _t("Action", .07, .12, 0.8, {"Adventure": 3, "Thriller": 3, "Sci-Fi": 2, "Crime": 2, "Comedy": 1, "IMAX": .3},
       "Maximum Lethal Hard Rogue Extreme Deadly Fast Iron Total Rapid Final Brutal",
       "Force Impact Strike Target Fury Protocol Mercenary Fire Payback Vengeance Showdown Pursuit"),
    _t("Horror", .07, .04, -0.2, {"Thriller": 3, "Mystery": 1, "Comedy": 1, "Sci-Fi": 1},
       "Cursed Hollow Bloody Dead Hungry Midnight Pale Rotten Whispering Crawling Unholy Sinister",
       "House Night Grave Woods Ritual Mirror Cellar Asylum Doll Curse Orphan Basement"),
    _t("Thriller", .06, .07, 0.3, {"Crime": 3, "Drama": 2, "Mystery": 2, "Action": 2, "Horror": 1},
       "Cold Blind Hidden Fatal Perfect Dangerous Twisted Dark Double Silent Deadly Sleeping",
       "Witness Stranger Motive Game Obsession Trap Memory Alibi Window Code Deception Agenda"),
    _t("Romance", .05, .05, 0.0, {"Drama": 3, "Comedy": 3, "Musical": .5},
       "Sweet Endless Summer Paper Golden Tender Only First Secret Little Perfect Starry",
       "Heart Kiss Love Affair Valentine Sunset Honeymoon Bride Serenade Romance Dance Season"),
    _t("Crime", .05, .06, 0.3, {"Drama": 3, "Thriller": 3, "Mystery": 1, "Film-Noir": .3, "Action": 1},
       "Dirty Crooked Bad Wise Cold Violent Undercover Stolen Dead Corrupt Gangland Hard",
       "City Heist Score Street Contract Mob Racket Family Money Deal Gang Kingpin"),
    _t("Adventure", .025, .06, 0.8, {"Action": 3, "Fantasy": 2, "Children": 1, "Sci-Fi": 1, "IMAX": .3},
       "Lost Great Golden Forbidden Hidden Savage Wild Brave Ancient Secret Mighty Far",
       "Island Treasure Temple Expedition Jungle Quest Kingdom Voyage Legend Map Empire Journey"),
    _t("Sci-Fi", .025, .07, 0.7, {"Action": 3, "Adventure": 2, "Thriller": 1, "IMAX": .3},
       "Dark Infinite Quantum Red Outer Alien Last Silent Cold Digital Stellar Synthetic",
       "Galaxy Horizon Machine Star Orbit Colony Signal Planet Android Singularity Nebula Dimension"),
    _t("Animation", .025, .04, 0.6, {"Children": 4, "Comedy": 2, "Fantasy": 1, "Adventure": 2},
       "Little Magic Happy Tiny Flying Brave Super Jolly Funny Sparkly Fuzzy Clever",
       "Dragon Bunny Robot Penguin Balloon Toybox Snowman Kitten Monsters Pirates Dinosaur Turtles"),
    _t("Children", .015, .025, 0.2, {"Animation": 2, "Comedy": 3, "Fantasy": 2, "Adventure": 2},
       "Amazing Happy Magic Lucky Little Silly Giant Secret Talking Clumsy Fearless Incredible",
       "Puppy Pony Treehouse Camp Friends Christmas Holiday Bear Zoo Circus School Treasure"),
    _t("Mystery", .015, .025, 0.1, {"Thriller": 3, "Crime": 2, "Drama": 2, "Horror": 1},
       "Vanishing Missing Strange Hidden Curious Locked Silent Crimson Lonely Veiled Puzzling Secret",
       "Lady Key Room Clue Manor Disappearance Inspector Affair Portrait Riddle Lighthouse Case"),
    _t("Fantasy", .015, .03, 0.5, {"Adventure": 3, "Comedy": 2, "Children": 1, "Animation": 1},
       "Enchanted Dark Crystal Elven Cursed Immortal Sacred Shadow Wizard Frozen Eternal Mystic",
       "Sword Realm Throne Sorcerer Spell Prophecy Castle Unicorn Oracle Kingdom Crown Amulet"),
    _t("War", .012, .015, 0.0, {"Drama": 3, "Action": 2, "Adventure": 1},
       "Fallen Bloody Brave Last Silent Distant Iron Burning Forgotten Lost Few Hollow",
       "Battalion Front Beach Bridge Siege Platoon Squadron Trenches Line Hill Regiment Command"),
    _t("Western", .012, .01, -0.3, {"Action": 2, "Drama": 2, "Adventure": 1, "Comedy": 1},
       "Lonesome Dusty Savage High Wicked Rough Hard Quick Bitter Magnificent Lone Golden",
       "Canyon Frontier Rider Trail Ridge Sheriff Outlaw Gunfighter Ranch Posse Saloon Mesa"),
    _t("Musical", .008, .01, -0.3, {"Comedy": 2, "Romance": 2, "Drama": 1, "Animation": .5},
       "Singing Dancing Merry Starlit Jolly Lively Moonlit Swinging Happy Sunny Gay Rhythmic",
       "Melody Broadway Parade Ballroom Rhythm Songbird Waltz Showboat Follies Cabaret Jubilee Revue"),
    _t("Film-Noir", .004, .005, -0.4, {"Crime": 3, "Thriller": 2, "Mystery": 2, "Drama": 1},
       "Naked Dark Crooked Deadly Black Scarlet Desperate Hollow Lonely Strangled Brass Midnight",
       "Street Alibi Dame Venetian Kill Detour Widow Dossier Sidewalk Shadow Racket Angel"),
)

#: The genre labels of ml-25m (alphabetical) and its label for a movie without genres.
GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
NO_GENRES = "(no genres listed)"

_NAMES = ("Annie Jack Rosa Walter Lucy Marty Ellen Otto Nina Frank Molly Hank Iris Leon Greta Sam Dora "
          "Max Vera Ray Clara Bruno Edith Felix Hazel Oscar Ruby Victor Mabel Tom").split()
_PLACES = ("Paris", "Nowhere", "Tombstone", "Brooklyn", "Mars", "Vienna", "the Valley", "Old Mexico", "Tokyo",
           "Harlem", "Berlin", "the North", "Rome", "Alaska", "Bombay", "Chinatown", "the Desert", "Havana",
           "Dublin", "Venice", "Texas", "Shanghai", "Lisbon", "the Moon")
# Template shares; the last one puts double quotes in the title, as some ml-25m titles have.
_TEMPLATE_SHARES = (.24, .15, .15, .15, .15, .15, .01)
_GENRE_COUNTS = (.38, .36, .18, .08)  # share of movies with 0, 1, 2, 3 secondary genres
_FIRST_YEAR, _LAST_YEAR = 1902, 2019


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


def make_catalogue(n_movies: int, max_id: int, tastes: tuple[Taste, ...], exponent: float, offset: float,
                   rng: np.random.Generator) -> Catalogue:
    """Draw ``n_movies`` movies with ids in ``1..max_id``, a cluster each, titles, genres and links."""
    ids = np.sort(rng.choice(max_id, size=n_movies, replace=False) + 1).astype(np.int32)
    shares = np.array([t.catalogue for t in tastes])
    cluster = rng.choice(len(tastes), size=n_movies, p=shares / shares.sum()).astype(np.int16)
    cluster[rng.choice(n_movies, size=len(tastes), replace=False)] = np.arange(len(tastes))  # none left empty
    weight = _popularity(cluster, tastes, exponent, offset, rng)
    years = _years(n_movies, rng)
    return Catalogue(ids=ids, cluster=cluster, weight=weight, titles=_titles(cluster, years, tastes, rng),
                     genres=_genres(cluster, weight, tastes, rng), years=years, **_links(n_movies, rng))


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


def _years(n, rng):
    """Release years: new releases follow the movieId order (1995..2019), the rest is back catalogue."""
    listed = np.arange(n) / max(n - 1, 1)
    new = np.rint(1994 + 25 * listed + rng.normal(0, 1.5, n))
    old = _LAST_YEAR - np.floor(rng.gamma(2.0, 14.0, n))
    years = np.where(rng.random(n) < 0.6, new, old)
    return np.clip(years, _FIRST_YEAR, _LAST_YEAR).astype(np.int32)


def _titles(cluster, years, tastes, rng):
    """``Title (year)`` from the cluster's adjectives and nouns, in one of seven templates."""
    n = len(cluster)

    def words(field):
        table = np.array([w for t in tastes for w in getattr(t, field)], dtype=object)
        size = len(getattr(tastes[0], field))  # every cluster has as many
        return pa.array(table[cluster.astype(np.int64) * size + rng.integers(0, size, n)], pa.string())

    adj, noun, other = words("adjectives"), words("nouns"), words("nouns")
    name = pa.array(np.array(_NAMES, dtype=object)[rng.integers(0, len(_NAMES), n)], pa.string())
    place = pa.array(np.array(_PLACES, dtype=object)[rng.integers(0, len(_PLACES), n)], pa.string())

    def join(*parts):
        return pc.binary_join_element_wise(*parts, "")

    templates = (join(adj, " ", noun), join(noun, " of ", place), join(name, "'s ", noun),
                 join(adj, " ", noun, ", The"),  # ml-25m moves a leading article to the end
                 join(adj, " ", noun, " in ", place), join(name, " and the ", adj, " ", other),
                 join('"', adj, " ", noun, '" Live in ', place))
    kind = pa.array(rng.choice(len(templates), size=n, p=_TEMPLATE_SHARES).astype(np.int8))
    title = pc.choose(kind, *templates)
    full = join(title, " (", pc.cast(pa.array(years), pa.string()), ")")
    return np.array(full.to_pylist(), dtype=object)


def _genres(cluster, weight, tastes, rng):
    """The primary genre plus 0-3 related ones (alphabetical); unpopular movies may have none listed."""
    n, index = len(cluster), {g: i for i, g in enumerate(GENRES)}
    related = np.zeros((len(tastes), len(GENRES)))
    for c, taste in enumerate(tastes):  # one row per cluster
        for genre, w in taste.related.items():
            related[c, index[genre]] = w
    with np.errstate(divide="ignore"):
        score = np.log(related[cluster]) + rng.gumbel(size=(n, len(GENRES)))  # Gumbel-top-k: a weighted draw
    extra = rng.choice(len(_GENRE_COUNTS), size=n, p=_GENRE_COUNTS)
    order = np.argsort(-score, axis=1)
    chosen = (np.arange(len(GENRES)) < extra[:, None]) & np.isfinite(np.take_along_axis(score, order, axis=1))
    bits = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(bits, np.nonzero(chosen)[0], 1 << order[chosen])
    primary = np.array([index[t.genre] for t in tastes])[cluster]
    bits |= 1 << primary.astype(np.int64)
    rank_fraction = np.argsort(np.argsort(-weight)) / n  # 0 for the most popular movie
    bits[rng.random(n) < 0.16 * rank_fraction] = 0
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
