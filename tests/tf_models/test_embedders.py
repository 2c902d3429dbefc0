"""``--embedders`` without TensorFlow: options, the model cache, the site with several embeddings, lazy imports.

The TensorFlow models themselves are trained in ``tests/tf_models/test_models.py``; here
a fake embedder (seeded numpy vectors) stands in for them, so these tests run
in seconds and without TensorFlow installed.
"""

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from build import main
from embedder.tf_models import embedders
from embedder.ratings.demo import make_demo_with_truth
from embedder.tf_models.comparison import side_by_side
from embedder.tf_models.embedders import (Embedder, EmbedderInput, ModelVectors, build_embeddings, format_figure, parse_embedders)
from embedder.errors import ConfigError
from embedder.tf_models import TrainParams, cache
from embedder.tf_models.autoencoder import AutoencoderParams, describe_movies
from embedder.tf_models.data import histories, title_words, windows

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--epochs", "2", "--vector-size", "8", "--layouts", "pca", "-q"]


@pytest.fixture(scope="module")
def planted():
    return make_demo_with_truth(seed=0, n_movies=48, n_users=120)


@dataclass(frozen=True)
class FakeParams:
    """Stands in for a model's params: ``settings()`` and a ``train`` with ``max_epochs``."""

    dim: int = 4
    train: TrainParams = TrainParams(max_epochs=3)

    def settings(self):
        return asdict(self)


def fake_registry(calls):
    """A registry whose "softmax" draws seeded random vectors (movies and users) and counts its calls."""

    def train(inputs, params, *, seed, progress):
        calls.append((seed, params.train.max_epochs))
        rng = np.random.default_rng(seed)
        return ModelVectors(
            name="softmax", title="fake softmax", how="seeded random vectors",
            movie_vectors=rng.normal(size=(len(inputs.movie_ids), params.dim)).astype(np.float32),
            user_vectors=rng.normal(size=(len(inputs.user_ids), params.dim)).astype(np.float32),
            figures={"HR@10": 0.25, "test users": 120.0}, settings=params.settings(),
            training={"epochs": 3, "best_epoch": 2, "best_val_loss": 1.5, "stopped_early": False},
            examples=({"title": "Similar to X", "items": ["a", "b"]},), notes=("a note",))

    def train_no_users(inputs, params, *, seed, progress):
        result = train(inputs, params, seed=seed, progress=progress)
        return replace(result, name="autoencoder", user_vectors=None)

    return {"softmax": Embedder("softmax", "fake softmax", FakeParams(), train),
            "autoencoder": Embedder("autoencoder", "fake autoencoder", FakeParams(dim=3), train_no_users)}


# --- options -----------------------------------------------------------------------------------


def test_parse_embedders_in_canonical_order_and_w2v_is_required():
    assert parse_embedders(None) == parse_embedders("w2v") == ("w2v",)
    assert parse_embedders(" autoencoder, w2v ,softmax,softmax") == ("w2v", "softmax", "autoencoder")
    with pytest.raises(ConfigError, match="unknown embedder bert"):
        parse_embedders("w2v,bert")
    with pytest.raises(ConfigError, match="must include w2v"):
        parse_embedders("softmax")


def test_bad_embedder_options_are_one_line_errors(tmp_path, capsys):
    out = str(tmp_path / "site")
    assert main(["--dataset", "demo", "--out", out, "--embedders", "w2v,bert", "--model-epochs", "0", *FAST], env={}) == 1
    err = capsys.readouterr().err
    assert "unknown embedder bert" in err and "--model-epochs must be between 1 and 1000" in err
    assert not Path(out).exists()


def test_a_missing_tensorflow_is_reported_with_the_install_command(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("tensorflow", "keras") else real(name, *a))
    assert main(["--dataset", "demo", "--out", str(tmp_path / "site"), "--embedders", "w2v,textcnn", *FAST], env={}) == 1
    err = capsys.readouterr().err
    assert "--embedders textcnn needs TensorFlow" in err and "tensorflow-cpu" in err
    assert embedders.missing_tensorflow(("w2v",)) == []


def test_help_lists_the_embedder_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"], env={})
    text = capsys.readouterr().out
    for flag in ("--embedders", "--model-epochs", "--retrain", "--no-model-cache"):
        assert flag in text


# --- data preparation ----------------------------------------------------------------------------


def test_histories_follow_time_and_windows_are_right_aligned_with_padding():
    from tests.helpers import interactions

    log = interactions([("u1", "b", 4, 30), ("u1", "a", 5, 10), ("u2", "c", 3, 5), ("u1", "c", 1, 20), ("u2", "x", 2, 1)])
    h = histories(log, np.array(["a", "b", "c"], dtype=object))
    assert h.lengths().tolist() == [3, 1]  # x is not on the map
    assert h.items[h.indptr[0]:h.indptr[1]].tolist() == [0, 2, 1]  # a (t=10), c (t=20), b (t=30)
    assert h.ratings[:3].tolist() == [5, 1, 4]
    # ids + 1, 0 = padding: the two movies before position 2 of u1, then the one before position 1 of u2 (none).
    assert windows(h, np.array([0, 0, 1]), np.array([2, 3, 0]), 3).tolist() == [[0, 1, 3], [1, 3, 2], [0, 0, 0]]


def test_title_words_drop_the_year_and_restore_the_article():
    assert title_words("Usual Suspects, The (1995)") == ["the", "usual", "suspects"]
    assert title_words("City of Lost Children, The (Cité des enfants perdus, La) (1995)") == [
        "the", "city", "of", "lost", "children", "cité", "des", "enfants", "perdus", "la"]
    assert title_words("Schindler's List (1993)") == ["schindler's", "list"]
    assert title_words("movie 42", "42") == [] and title_words("movie 42", "7") == ["movie", "42"]


# --- the model cache ---------------------------------------------------------------------------------


def test_cache_entries_round_trip_without_pickles_and_ignore_damage(tmp_path):
    arrays = {"movie_vectors": np.arange(6, dtype=np.float32).reshape(3, 2)}
    folder = cache.save(tmp_path, "softmax", "k" * 64, {"figures": {"HR@10": 0.5, "a": 1.0}}, arrays)
    meta, loaded = cache.load(tmp_path, "softmax", "k" * 64)
    assert list(meta["figures"]) == ["HR@10", "a"] and np.array_equal(loaded["movie_vectors"], arrays["movie_vectors"])
    assert cache.load(tmp_path, "softmax", "j" * 64) is None
    (folder / "movie_vectors.npy").write_bytes(b"not numpy")
    assert cache.load(tmp_path, "softmax", "k" * 64) is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_the_cache_key_follows_data_settings_and_seed(planted):
    dataset, _ = planted
    inter = dataset.interactions
    base = cache.fingerprint(dataset, inter.item_ids, inter.user_ids)
    assert base == cache.fingerprint(dataset, inter.item_ids.copy(), inter.user_ids)
    changed = replace(dataset, interactions=replace(inter, rating=inter.rating + np.float32(0.5)))
    assert cache.fingerprint(changed, inter.item_ids, inter.user_ids) != base
    assert cache.fingerprint(dataset, inter.item_ids[:-1], inter.user_ids) != base
    key = cache.cache_key("softmax", 1, {"dim": 8}, 0, base)
    assert key == cache.cache_key("softmax", 1, {"dim": 8}, 0, base)
    assert len({key, cache.cache_key("softmax", 1, {"dim": 9}, 0, base), cache.cache_key("softmax", 1, {"dim": 8}, 1, base),
                cache.cache_key("softmax", 2, {"dim": 8}, 0, base), cache.cache_key("textcnn", 1, {"dim": 8}, 0, base)}) == 5


def test_build_embeddings_trains_once_then_hits_the_cache(planted, tmp_path):
    dataset, _ = planted
    inter = dataset.interactions
    calls, lines = [], []
    registry = fake_registry(calls)
    inputs = EmbedderInput(dataset, inter.item_ids, inter.user_ids)

    def run(**options):
        return build_embeddings(("w2v", "softmax"), inputs, cache_dir=tmp_path, registry=registry, log=lines.append, **options)

    first, = run()
    again, = run()
    assert calls == [(0, 3)] and not first.cached and again.cached
    assert np.array_equal(first.movie_vectors, again.movie_vectors) and np.array_equal(first.user_vectors, again.user_vectors)
    assert again.figures == first.figures and again.examples == first.examples and again.notes == first.notes
    assert "from the model cache" in lines[1]
    run(seed=1)
    run(max_epochs=7)
    run(retrain=True)
    assert calls == [(0, 3), (1, 3), (0, 7), (0, 3)]
    build_embeddings(("w2v", "softmax"), inputs, cache_dir=None, registry=registry)  # --no-model-cache
    assert len(calls) == 5 and len(list(tmp_path.glob("softmax-*"))) == 3


def test_results_are_checked_for_shape_and_finiteness(planted):
    dataset, _ = planted
    inter = dataset.interactions
    inputs = EmbedderInput(dataset, inter.item_ids, inter.user_ids)
    good = ModelVectors("softmax", "t", "h", np.zeros((48, 2), np.float32), None, {}, {})
    assert good.check(inputs) is good
    with pytest.raises(ValueError, match="shape"):
        replace(good, movie_vectors=np.zeros((47, 2), np.float32)).check(inputs)
    with pytest.raises(ValueError, match="NaN"):
        replace(good, user_vectors=np.full((120, 2), np.nan, np.float32)).check(inputs)


def test_figures_are_formatted_for_people():
    assert format_figure("HR@10", 0.1234) == "HR@10 0.123"
    assert format_figure("reconstruction MSE", 0.00112) == "reconstruction MSE 0.0011"
    assert format_figure("test ratings", 20000.0) == "test ratings 20,000"
    assert format_figure("x", float("nan")) == "x n/a"


def test_side_by_side_rows_for_the_model_card(planted):
    dataset, clusters = planted
    ids = dataset.movies.ids
    onehot = np.eye(8, dtype=np.float32)[clusters] + 0.01
    extra = fake_registry([])["softmax"].train(EmbedderInput(dataset, ids, dataset.interactions.user_ids), FakeParams(),
                                               seed=0, progress=False)
    card = side_by_side(dataset, ids, onehot, 1.25, [replace(extra, seconds=3.0, cached=True)])
    rows = card["rows"]
    assert [r["name"] for r in rows] == ["w2v", "softmax"]
    assert rows[0]["seconds"] == "1.2 s" and rows[1]["seconds"] == "3.0 s"  # the same whether trained or cached
    assert rows[1]["figures"] == ["HR@10 0.250", "test users 120"] and rows[1]["training"] == "3 epochs, best 2"
    assert rows[1]["tensors"] == "movies 48 × 4 · users 120 × 4"
    # Planted clusters share genres: the cluster embedding beats random neighbours, which beat nothing.
    assert float(rows[0]["genre_jaccard"]) > float(card["random_jaccard"]) > 0


def test_descriptions_read_user_tags_and_the_tag_genome(tmp_path):
    from embedder.ratings.readers import read_dataset

    folder = tmp_path / "ml-tiny"
    folder.mkdir()
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4,10\n1,2,3,11\n2,1,5,12\n2,3,2,13\n",
                                        encoding="utf-8")
    (folder / "movies.csv").write_text('movieId,title,genres\n1,Toy Story (1995),Animation|Comedy\n'
                                       '2,"Usual Suspects, The (1995)",Crime\n3,Heat (1995),(no genres listed)\n', encoding="utf-8")
    (folder / "tags.csv").write_text("userId,movieId,tag,timestamp\n1,1,Pixar,1\n2,1,pixar,2\n2,1,time travel,3\n"
                                     "1,2,twist ending,4\n", encoding="utf-8")
    (folder / "genome-tags.csv").write_text("tagId,tag\n1,heist\n2,toys\n", encoding="utf-8")
    (folder / "genome-scores.csv").write_text("movieId,tagId,relevance\n3,1,0.95\n3,2,0.1\n1,2,0.9\n", encoding="utf-8")
    dataset = read_dataset(folder)
    described = describe_movies(dataset, np.array(["1", "2", "3"], dtype=object), AutoencoderParams())
    assert described.words[0] == ["toy", "story", "animation", "comedy", "pixar", "time", "travel", "toys"]
    assert described.words[1] == ["the", "usual", "suspects", "crime", "twist", "ending"]
    assert described.words[2] == ["heat", "heist"]
    assert described.sources == ("title words", "genres", "tags.csv", "genome-scores.csv", "genome-tags.csv")
    assert describe_movies(make_demo_with_truth(0, 16, 20)[0], np.array(["1"], dtype=object)).sources == ("title words", "genres")


# --- the site -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_embedder_is_a_tensor_a_card_and_an_explorer_layout(planted, tmp_path, monkeypatch):
    from embedder.cli import build_parser
    from embedder.config import config_from_args
    from embedder.ratings.datasets import KNOWN
    from embedder.pipeline import build

    calls = []
    monkeypatch.setattr(embedders, "_registry", lambda: fake_registry(calls))
    monkeypatch.setattr(embedders, "missing_tensorflow", lambda names: [])
    dataset, _ = planted
    site = tmp_path / "site"
    argv = ["--out", str(site), *FAST, "--embedders", "w2v,softmax,autoencoder", "--deterministic"]
    config = config_from_args(build_parser().parse_args(argv), {"REELSPACE_DATA": str(tmp_path / "cache")}, KNOWN)
    report = build(config, dataset=dataset)

    entries = json.loads((site / "projector" / "projector_config.json").read_text(encoding="utf-8"))["embeddings"]
    names = [e["tensorName"] for e in entries]
    assert names == ["movies · word2vec", "users · SIF", "movies · softmax", "users · softmax", "movies · autoencoder"]
    for key in ("tensorName", "tensorPath", "metadataPath"):
        assert len({e[key] for e in entries}) == len(entries), key
    assert [e["tensorShape"] for e in entries[2:]] == [[48, 4], [120, 4], [48, 3]]
    projector = site / "projector"
    assert (projector / "movies_softmax_metadata.tsv").read_bytes() == (projector / "movies_metadata.tsv").read_bytes()
    assert (projector / "users_softmax_metadata.tsv").read_bytes() == (projector / "users_metadata.tsv").read_bytes()
    assert (projector / "movies_autoencoder_sprite.png").read_bytes() == (projector / "movies_sprite.png").read_bytes()
    assert entries[4]["sprite"]["imagePath"] == "movies_autoencoder_sprite.png" and "sprite" not in entries[3]
    hosted = np.frombuffer((projector / "movies_softmax.bytes").read_bytes(), dtype="<f4").reshape(48, 4)
    assert np.array_equal(hosted, np.random.default_rng(0).normal(size=(48, 4)).astype(np.float32))
    assert main(["validate", str(site)], env={}) == 0

    index = (site / "index.html").read_text(encoding="utf-8")
    for text in ("The embedders side by side", "movies · softmax", "users · softmax", "movies · autoencoder", "HR@10 0.250",
                 "Similar to X", "softmax: a note", "genre Jaccard@10"):
        assert text in index, text
    explorer = (site / "explorer.html").read_text(encoding="utf-8")
    assert "softmax · PCA" in explorer and "autoencoder · PCA" in explorer
    for name in ("movies-softmax-pca", "users-softmax-pca", "movies-autoencoder-pca", "users-autoencoder-pca"):
        assert (site / "explorer" / f"layout-{name}.js").is_file(), name
    tensorboard = (site / "tensorboard" / "projector_config.pbtxt").read_text(encoding="utf-8")
    assert tensorboard.count("tensor_name") == 5
    summary = report.summary()
    assert "movies · softmax: 48 x 4" in summary and "softmax: HR@10 0.250, test users 120; trained in" in summary
    assert "models" in report.timings

    first = {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}
    report = build(config, dataset=dataset)  # a rebuild: no training, and (--deterministic) the very same files
    assert len(calls) == 2 and report.summary().count("from the model cache") == 2
    assert {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()} == first


@pytest.mark.slow
def test_the_default_build_never_imports_tensorflow(tmp_path):
    script = (
        "import sys\n"
        "from build import main\n"
        f"code = main(['--dataset', 'demo', '--out', {str(tmp_path / 'site')!r}, '--epochs', '1', '--vector-size', '8', '-q'],"
        f" env={{'REELSPACE_DATA': {str(tmp_path / 'cache')!r}}})\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras'})\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_the_registry_names_every_tensorflow_model_without_importing_tensorflow():
    from embedder.tf_models.autoencoder import AutoencoderParams as A
    from embedder.tf_models.softmax import SoftmaxParams as S
    from embedder.tf_models.textcnn import TextCNNParams as T

    registry = embedders._registry()
    assert list(registry) == [name for name in embedders.EMBEDDERS if name != "w2v"]
    assert [type(entry.params) for entry in registry.values()] == [S, T, A]
    assert embedders.with_max_epochs(S(), 4).train.max_epochs == 4 and embedders.with_max_epochs(S(), None) == S()
    assert T().feature_dim == 200 and T().windows == (2, 3, 4, 5) and A().length % 4 == 0


def test_evaluate_gets_a_row_per_tensorflow_embedder_trained_on_the_training_data_only(planted, tmp_path):
    pytest.importorskip("embedder.quality.evaluate")
    dataset, _ = planted
    seen = []
    registry = fake_registry([])
    for name, entry in list(registry.items()):
        def train(inputs, params, *, seed, progress, inner=entry.train):
            seen.append(inputs)
            return inner(inputs, params, seed=seed, progress=progress)
        registry[name] = replace(entry, train=train)

    rows = embedders.evaluation_rows(dataset, ("w2v", "softmax", "autoencoder"), cache_dir=tmp_path, registry=registry)
    assert [r.method for r in rows] == ["softmax (psi . V)", "autoencoder (cosine to the mean of the user's training movies)"]
    n_users = len(seen[0].user_ids)
    for row in rows:
        assert row.family == "tensorflow" and 0 <= row.hr <= 1 and 0 <= row.coverage <= 1 and len(row.hits) == n_users
        assert row.genre_jaccard is not None and row.next_hr is not None
    # The models saw the training split: one held-out rating fewer per evaluated user.
    assert len(seen[0].dataset.interactions) == len(dataset.interactions) - n_users
    assert embedders.evaluation_rows(dataset, ("w2v",)) == []


def test_data_too_small_for_a_model_is_a_one_line_data_error():
    from embedder.errors import DataError
    from embedder.tf_models.autoencoder import train_autoencoder
    from embedder.tf_models.softmax import SoftmaxParams, train_softmax
    from embedder.values import Movies
    from tests.helpers import interactions

    log = interactions([("u1", "a", 4, 1), ("u1", "b", 5, 2), ("u2", "a", 3, 3), ("u2", "b", 2, 4)])
    movies = Movies(ids=log.item_ids, titles=np.array(["movie a", "movie b"], dtype=object), years=np.zeros(2, np.int32),
                    genres=((), ()))
    with pytest.raises(DataError, match="at least 5 rated movies"):
        train_softmax(log, movies, log.item_ids, log.user_ids, SoftmaxParams())
    from embedder.values import Dataset

    bare = Dataset(name="tiny", source="made in code", interactions=log, movies=movies)
    with pytest.raises(DataError, match="at least two movies with a description"):
        train_autoencoder(bare, log.item_ids)
