"""The fixed projector bundle behind the golden-file tests, and its regeneration.

``tests/golden/projector/`` holds the expected output of ``golden_files()``:
two embeddings with fixed vectors over six movies whose titles carry a tab, a
newline, ``<script>``, quotes and accents, and an id with leading zeros.

It also regenerates the golden copy of the whole demo site
(``tests/golden_site.py``, ``tests/golden/site/``).  After an intended change
to the output, regenerate everything with one command and review the diff
like code::

    python tests/regen_golden.py        # or: python -m tests.regen_golden

The sprite is compared by decoded pixels, so a different zlib does not matter;
a different Pillow or FreeType may change the text pixels and need a regen.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository (embedder, tests) importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from embedder.site.projector import Embedding, movie_metadata, primary_genres, projector_files, user_metadata  # noqa: E402
from embedder.site.sprite import make_sprite  # noqa: E402
from embedder.values import Movies, Users  # noqa: E402

GOLDEN_DIR = Path(__file__).parent / "golden"
FOLDER = "projector"
BASE_URL = "https://example.github.io/reelspace"
SPRITE_TILE = 32


def golden_movies() -> Movies:
    """Six movies with every kind of title the TSV writer must survive."""
    return Movies(
        ids=np.array(["1", "0114709", "3", "4", "5", "6"]),
        titles=np.array([
            "Toy Story (1995)",
            "Tab\tInside (1996)",
            "Line\nBreak, The (1997)",
            "<script>alert('x')</script> (2000)",
            'The "Quoted" Movie (1999)',
            "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)",
        ]),
        years=np.array([1995, 1996, 1997, 2000, 1999, 0]),
        genres=(
            ("Adventure", "Animation", "Children", "Comedy"),
            ("Comedy",),
            ("Drama", "Romance"),
            ("Horror",),
            (),
            ("Comedy", "Romance"),
        ),
        links={
            "imdb": np.array(["0114709", "0113497", "", "", "", "0211915"]),
            "tmdb": np.array(["862", "8844", "", "", "", "194"]),
        },
    )


def golden_state(n: int) -> dict:
    """A complete projector State: a 2-D t-SNE view with fixed coordinates."""
    projections = [{"tsne-0": round(0.5 * i, 3), "tsne-1": round(1.0 - 0.25 * i, 3)} for i in range(n)]
    return {
        "label": "t-SNE",
        "selectedProjection": "tsne",
        "projections": projections,
        "pcaComponentDimensions": [0, 1],
        "tSNEIteration": 500,
        "tSNEPerplexity": 5,
        "tSNELearningRate": 10,
        "tSNEis3d": False,
        "selectedPoints": [0],
        "dataSetDimensions": [n, 4],
    }


def golden_files() -> dict[str, bytes]:
    """Return the golden bundle, exactly as ``projector_files`` makes it."""
    movies = golden_movies()
    rows = np.arange(len(movies))
    sprite = make_sprite(movies.titles, primary_genres(movies), tile=SPRITE_TILE)
    movie_vectors = (np.arange(24, dtype=np.float64).reshape(6, 4) - 11.5) / 8
    user_vectors = np.array([[0.1, -0.2, 0.3], [1.5, 2.25, -3.125], [1e-5, 123456.7, 0.0]])
    users = Users(ids=np.array(["7", "42"]), attributes={"age": np.array(["24", "53"]), "gender": np.array(["F", "M"])})
    embeddings = [
        Embedding(
            name="movies · word2vec",
            slug="movies",
            vectors=movie_vectors,
            metadata=movie_metadata(movies, rows, [12, 3, 1, 7, 2, 9], [3.875, 4.0, 2.5, 1.0, 3.333, 4.25]),
            sprite=sprite.png,
            sprite_tile=sprite.tile,
        ),
        Embedding(
            name="users · SIF",
            slug="users",
            vectors=user_vectors,
            metadata=user_metadata(["7", "42", "0099"], [10, 20, 5], [3.5, 2.0, 4.0], ["Comedy", "Drama", ""], users),
        ),
    ]
    return projector_files(embeddings, folder=FOLDER, base_url=BASE_URL, bookmarks={"movies": [golden_state(6)]})


def regen_projector() -> None:
    """Rewrite ``tests/golden/projector/`` from ``golden_files()``."""
    target = GOLDEN_DIR / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.iterdir():
        stale.unlink()
    for path, data in sorted(golden_files().items()):
        (GOLDEN_DIR / path).write_bytes(data)
        print(f"wrote {GOLDEN_DIR / path}")


def regen_site() -> None:
    """Rebuild the golden demo site and rewrite ``tests/golden/site/`` from it."""
    from tests import golden_site

    with tempfile.TemporaryDirectory() as tmp:
        files = golden_site.site_files(golden_site.build_site(Path(tmp) / "site"))
    written = golden_site.write_golden(files)
    print(f"wrote {len(written) - 1} files of the demo site and {golden_site.MANIFEST} ({len(files)} files listed)")


def main() -> int:
    """Regenerate every golden file: the projector bundle and the whole demo site."""
    regen_projector()
    regen_site()
    return 0


if __name__ == "__main__":
    sys.exit(main())
