"""reelspace: ratings logs -> Word2Vec movie vectors + SIF user vectors -> a static site.

The pipeline, one module per stage (see ``values.py`` for the values between them)::

    sources / readers / demo / datasets  ->  Dataset
    sequences                            ->  Sequences
    movie_vectors                        ->  WordVectors
    user_vectors                         ->  SentenceVectors
    embedders / tf_models (--embedders)  ->  ModelVectors (softmax, textcnn, autoencoder; TensorFlow)
    neighbours                           ->  Neighbours
    projector / sprite                   ->  projector bundle files
    site                                 ->  pages
    output (+ validate)                  ->  the site on disk
    sharing / tensorboard                ->  TensorBoard logdir, self-hosted projector page, build.json
    publish/ (gh_pages, gist)            ->  the built site on GitHub Pages or in a gist

``pipeline.build`` runs them in order; ``cli.main`` is the command line.
"""

__version__ = "0.1.0"


def build(config, **precomputed):
    """Run the whole pipeline (see ``embedder.pipeline.build``)."""
    from embedder.pipeline import build as run

    return run(config, **precomputed)
