"""reelspace: ratings logs -> Word2Vec movie vectors + SIF user vectors -> a static site.

The package is the pipeline, one subpackage per stage (``values.py`` holds the
values passed between them)::

    ratings/     a log (MovieLens, any delimited file, the demo) -> Dataset, arranged by its order
    model/       Dataset -> Sequences -> WordVectors (Word2Vec), SentenceVectors (SIF / uSIF / mean),
                 Neighbours, the recommender
    tf_models/   the TensorFlow embedders beside Word2Vec (--embedders)
    maps/        vectors -> 2-D layouts, named regions, the map's picture
    site/        everything -> the site's files: projector bundle, index page, explorer, sharing
    quality/     held-out evaluation (build.py evaluate, the model card)
    output.py    the site's files -> the disk, swapped in atomically
    publish/     a built site -> GitHub Pages or a gist
    synthetic/   seeded MovieLens-shaped logs (build.py synthetic, the demo)
    spark/       the heavy stages on Apache Spark (--engine spark)

``settings.py`` declares every setting, ``config.py`` makes the ``BuildConfig``,
``pipeline.build`` runs the stages in order and ``cli.main`` is the command line.
"""

__version__ = "0.1.0"
