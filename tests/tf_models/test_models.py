"""The TensorFlow embedders on tiny planted-cluster data: shapes, finiteness, clusters, determinism.

The model cache, the projector config and the site with several embeddings
are tested without TensorFlow in ``tests/tf_models/test_embedders.py`` (a fake embedder).

Everything trains for a few epochs of a few thousand examples with small
dimensions; the file takes ~20-35 s on two cores (importing TensorFlow ~5 s,
then each fit's graph tracing dominates).
"""

import importlib.util
from dataclasses import replace

import numpy as np
import pytest

# Found, not imported: importing TensorFlow takes seconds, and collection (even of a -m "not tf" run) should not pay them.
if importlib.util.find_spec("tensorflow") is None:
    pytest.skip("TensorFlow is not installed (pip install -r requirements.txt)", allow_module_level=True)

from embedder.tf_models import embedders  # noqa: E402
from embedder.ratings.demo import make_demo_with_truth  # noqa: E402
from embedder.tf_models.embedders import EmbedderInput  # noqa: E402
from embedder.errors import DataError  # noqa: E402
from embedder.model.neighbours import nearest  # noqa: E402
from embedder.tf_models import TrainParams  # noqa: E402
from embedder.tf_models.autoencoder import AutoencoderParams, describe_movies  # noqa: E402
from embedder.tf_models.softmax import SoftmaxParams, train_softmax  # noqa: E402
from embedder.tf_models.textcnn import TextCNNParams, train_textcnn  # noqa: E402

pytestmark = pytest.mark.tf

SOFTMAX = SoftmaxParams(dim=8, hidden=(16,), context=20, examples_per_user=20,
                        train=TrainParams(max_epochs=8, patience=2, batch_size=64, learning_rate=1e-2))
TEXTCNN = TextCNNParams(embed_dim=8, feature_dim=32, title_length=8, windows=(2, 3), filters=4,
                        train=TrainParams(max_epochs=5, patience=2, batch_size=128, learning_rate=1e-2))
AUTOENCODER = AutoencoderParams(length=12, word_dim=16, word_epochs=50, word_window=10, filters=(16, 16), dim=16,
                                train=TrainParams(max_epochs=15, patience=3, batch_size=64, learning_rate=5e-3))


@pytest.fixture(scope="module")
def planted():
    """64 movies in 8 planted clusters, 160 users, ~4,500 ratings."""
    return make_demo_with_truth(seed=0, n_movies=64, n_users=160)


@pytest.fixture(scope="module")
def planted_400():
    """400 movies in 8 planted clusters: an autoencoder of titles and genres needs a few hundred descriptions."""
    return make_demo_with_truth(seed=0, n_movies=400, n_users=200)


def purity(vectors, clusters, k=5):
    """Share of each movie's k nearest neighbours in its own cluster, and what random neighbours would give."""
    indices = nearest(vectors, k).indices
    same = (clusters[indices] == clusters[:, None]).mean()
    sizes = np.bincount(clusters)
    chance = ((sizes[clusters] - 1) / (len(clusters) - 1)).mean()
    return same, chance


def test_softmax_exports_psi_and_v_in_one_space_and_finds_the_clusters(planted):
    dataset, clusters = planted
    inter = dataset.interactions
    result = train_softmax(inter, dataset.movies, inter.item_ids, inter.user_ids, SOFTMAX, seed=0)
    assert result.movie_vectors.shape == (64, 8) and result.user_vectors.shape == (160, 8)
    assert result.movie_vectors.dtype == np.float32
    assert np.isfinite(result.movie_vectors).all() and np.isfinite(result.user_vectors).all()
    assert result.loss == "full softmax"
    assert result.test_users == 160 and 0 <= result.hit_rate <= 1 and result.precision == pytest.approx(result.hit_rate / 10)
    assert 1 <= result.log.best_epoch <= result.log.epochs <= SOFTMAX.train.max_epochs
    same, chance = purity(result.movie_vectors, clusters)
    assert same > 2 * chance, (same, chance)
    # Recommendations are dot products: a user's best movies lean to the clusters they rated most.
    scores = result.user_vectors @ result.movie_vectors.T
    rated = np.zeros((160, 64), bool)
    rated[inter.user, inter.item] = True
    favourite = np.array([np.bincount(clusters[rated[u]], minlength=8).argmax() for u in range(160)])
    top = np.argsort(-scores, axis=1)[:, :5]
    assert (clusters[top] == favourite[:, None]).mean() > 2 * (1 / 8)


def test_softmax_is_deterministic_under_a_seed(planted):
    dataset, _ = planted
    inter = dataset.interactions
    quick = replace(SOFTMAX, train=replace(SOFTMAX.train, max_epochs=1))
    a = train_softmax(inter, dataset.movies, inter.item_ids, inter.user_ids, quick, seed=3)
    b = train_softmax(inter, dataset.movies, inter.item_ids, inter.user_ids, quick, seed=3)
    assert np.array_equal(a.movie_vectors, b.movie_vectors) and np.array_equal(a.user_vectors, b.user_vectors)


def test_softmax_uses_sampled_softmax_above_the_threshold(planted):
    dataset, _ = planted
    inter = dataset.interactions
    params = replace(SOFTMAX, sampled_above=10, num_sampled=8, train=replace(SOFTMAX.train, max_epochs=1))
    result = embedders._softmax(EmbedderInput(dataset, inter.item_ids, inter.user_ids), params, seed=0, progress=True)
    assert "sampled softmax (8 negatives)" in result.how and list(result.figures) == ["HR@10", "precision@10", "test users"]
    assert result.check(EmbedderInput(dataset, inter.item_ids, inter.user_ids)).movie_vectors.shape == (64, 8)
    assert result.training["epochs"] == 1 and result.settings["sampled_above"] == 10


def test_textcnn_regresses_ratings_exports_features_and_lists(planted):
    dataset, clusters = planted
    inter = dataset.interactions
    inputs = EmbedderInput(dataset, inter.item_ids, inter.user_ids)
    result = embedders._textcnn(inputs, TEXTCNN, seed=0, progress=False).check(inputs)
    assert result.movie_vectors.shape == (64, 32) and result.user_vectors.shape == (160, 32)
    assert "user (id, gender, age, occupation)" in result.how
    figures = result.figures
    assert figures["test ratings"] == round(0.2 * len(inter)) and figures["test RMSE"] == pytest.approx(figures["test MSE"] ** 0.5)
    assert figures["test RMSE"] < float(np.std(inter.rating)) * 1.5  # learnt something, not diverged
    assert [e["title"].split()[0] for e in result.examples] == ["Similar", "Favourites", "People"]
    assert all(len(e["items"]) == 5 for e in result.examples)
    same, chance = purity(result.movie_vectors, clusters)
    assert same > 2 * chance, (same, chance)


def test_textcnn_inputs_use_the_user_attributes_the_data_has_and_need_ratings(planted):
    from embedder.tf_models.textcnn import _inputs, age_group

    dataset, _ = planted
    inter = dataset.interactions
    with_users = _inputs(dataset, inter.item_ids, 8)
    assert list(with_users.users) == ["id", "gender", "age", "occupation"]
    assert with_users.titles.shape == (64, 8) and with_users.genres.shape[0] == 64
    assert list(_inputs(replace(dataset, users=None), inter.item_ids, 8).users) == ["id"]
    assert [age_group(a) for a in ("7", "18", "24", "25", "56", "35-44", "")] == [
        "Under 18", "18-24", "18-24", "25-34", "56+", "35-44", ""]
    with pytest.raises(DataError, match="no rating column"):
        train_textcnn(replace(dataset, interactions=replace(inter, rating=None)), inter.item_ids, inter.user_ids, TEXTCNN)


def test_autoencoder_is_one_dimensional_shape_true_and_finds_the_clusters(planted_400):
    dataset, clusters = planted_400
    n = len(dataset.movies)
    # Movie 0 loses its text: a placeholder title (what the readers give an unlisted item) and no genres.
    movies = dataset.movies
    titles = movies.titles.copy()
    titles[0] = f"movie {movies.ids[0]}"
    bare = replace(dataset, movies=replace(movies, titles=titles, genres=((),) + movies.genres[1:]))
    assert describe_movies(bare, movies.ids, AUTOENCODER).words[0] == []
    inputs = EmbedderInput(bare, movies.ids, bare.interactions.user_ids)
    result = embedders._autoencoder(inputs, AUTOENCODER, seed=0, progress=False).check(inputs)
    assert result.movie_vectors.shape == (n, 16) and result.user_vectors is None
    assert result.figures["described movies"] == n - 1 and result.notes[0].startswith("1 movies have no description")
    assert "description (title words, genres)" in result.how
    assert result.figures["reconstruction MSE"] > 0 and 0 < result.figures["variance explained"] <= 1
    # The movie without text sits at the centre of the described ones, not at the code of an empty matrix.
    np.testing.assert_allclose(result.movie_vectors[0], result.movie_vectors[1:].mean(axis=0), rtol=1e-5, atol=1e-6)
    same, chance = purity(result.movie_vectors[1:], clusters[1:])
    assert same > 2 * chance, (same, chance)


def test_the_tensorboard_config_text_is_what_visualize_embeddings_writes(tmp_path):
    from tensorboard.plugins.projector import ProjectorConfig, visualize_embeddings

    from embedder.site.tensorboard import _pbtxt

    config = ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "movies · softmax"
    embedding.tensor_path = "movies_softmax.tsv"
    embedding.tensor_shape.extend([64, 8])
    visualize_embeddings(str(tmp_path), config)
    assert _pbtxt(config) == (tmp_path / "projector_config.pbtxt").read_bytes()
