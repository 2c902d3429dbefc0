"""The three TensorFlow embedders of the founding designs, and what they share.

* ``softmax``     -- the softmax retrieval DNN (Google's recommendation-systems
  course): a user's rated movies -> user embedding; softmax over all movies
  whose weight matrix is the movie embedding.
* ``textcnn``     -- the rating-regression model of the MovieLens-1M text-CNN
  recommender: user and movie feature towers, prediction = dot product.
* ``autoencoder`` -- a 1-D convolutional autoencoder over movie descriptions
  (title words, genres, tags) as word-vector matrices; the bottleneck is the
  movie vector.

TensorFlow is heavy (seconds to import, ~1 GB installed), so nothing in this
package imports it at module level (STYLE P8): ``tensorflow()`` is called
inside the training functions, and only when ``--embedders`` asks for one of
these models.  The core build never imports it (a test checks).

Shared here: the import itself, seeding, the per-epoch progress bar, the
early-stopped ``fit`` and the ``TrainLog`` it returns.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from embedder.errors import ConfigError

#: What to install when TensorFlow is missing (the CPU wheel is enough).
INSTALL_HINT = ("pip install 'tensorflow-cpu>=2.16' on Linux, 'tensorflow>=2.16' elsewhere "
                "(or pip install -r requirements.txt)")


def tensorflow():
    """Import TensorFlow and Keras 3 (here only), with TensorFlow's C++ logs silenced.

    Raises ConfigError with an install hint when TensorFlow is not installed,
    or when the installed Keras is not Keras 3.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _quiet_native_stderr("tensorflow" not in sys.modules):
            import keras
            import tensorflow as tf
    except ImportError as error:
        raise ConfigError(f"the TensorFlow embedders need TensorFlow 2 with Keras 3 ({error}): {INSTALL_HINT}") from None
    if not keras.__version__.startswith("3."):
        raise ConfigError(f"the TensorFlow embedders need Keras 3, found keras {keras.__version__}: {INSTALL_HINT}")
    # Keras warns about predict-function retracing when several small models predict in turn: expected here.
    tf.get_logger().setLevel("ERROR")
    return tf, keras


class _quiet_native_stderr:
    """Send file descriptor 2 to /dev/null while TensorFlow's native libraries load.

    absl prints "All log messages before absl::InitializeLog() is called are
    written to STDERR" from C++ at import, whatever ``TF_CPP_MIN_LOG_LEVEL``
    says.  Python-level errors are unaffected: they are raised, and printed
    after the descriptor is restored.
    """

    def __init__(self, active: bool):
        self.active = active
        self.saved = None

    def __enter__(self):
        if self.active:
            try:
                sys.stderr.flush()
                self.saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
            except (OSError, ValueError, AttributeError):
                self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
        return False


def installed_versions() -> dict[str, str]:
    """TensorFlow and Keras versions from the package metadata (no import: the cache key uses them)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("tensorflow-cpu", "tensorflow", "keras"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TensorFlow's ops deterministic.

    ``enable_op_determinism`` is process-wide and stays on; it costs little on
    CPU and makes the same ``--seed`` give the same vectors run after run.
    """
    tf, keras = tensorflow()
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


@dataclass(frozen=True)
class TrainParams:
    """How a model is fitted: mini-batches, Adam, early stopping on a validation split.

    max_epochs
        Upper bound; training stops earlier when the validation loss has not
        improved for ``patience`` epochs, and the best epoch's weights are kept.
    """

    max_epochs: int = 20
    patience: int = 2
    batch_size: int = 256
    learning_rate: float = 1e-3


@dataclass(frozen=True)
class TrainLog:
    """What ``fit`` did: epochs run, the best epoch (1-based) and the loss curves."""

    epochs: int
    best_epoch: int
    best_val_loss: float
    history: dict = field(default_factory=dict)
    stopped_early: bool = False

    def summary(self) -> dict:
        """Plain values for the cache sidecar and the site."""
        return {
            "epochs": self.epochs,
            "best_epoch": self.best_epoch,
            "best_val_loss": round(self.best_val_loss, 6),
            "stopped_early": self.stopped_early,
        }


def fit(model, x, y, *, validation, params: TrainParams, progress: bool, desc: str, sample_weight=None) -> TrainLog:
    """``model.fit`` with early stopping on ``validation`` (keeping the best weights) and a per-epoch bar.

    ``validation`` is ``(x_val, y_val)`` or ``(x_val, y_val, w_val)``.  The
    model must be compiled.  Batches are shuffled by Keras from the global
    seed (``seed_everything``), so the run is reproducible.
    """
    _, keras = tensorflow()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True)
    callbacks = [stop]
    bar = _epoch_bar(keras, params.max_epochs, desc) if progress else None
    if bar is not None:
        callbacks.append(bar)
    try:
        history = model.fit(x, y, sample_weight=sample_weight, validation_data=validation, batch_size=params.batch_size,
                            epochs=params.max_epochs, shuffle=True, verbose=0, callbacks=callbacks)
    finally:
        if bar is not None:
            bar.close()
    curves = {key: [float(v) for v in values] for key, values in history.history.items()}
    val = curves.get("val_loss", [])
    best = min(range(len(val)), key=val.__getitem__) if val else len(curves.get("loss", [])) - 1
    return TrainLog(epochs=len(curves.get("loss", [])), best_epoch=best + 1,
                    best_val_loss=float(val[best]) if val else float("nan"), history=curves,
                    stopped_early=len(curves.get("loss", [])) < params.max_epochs)


def _epoch_bar(keras, epochs: int, desc: str):
    """A Keras callback advancing a tqdm bar once per epoch, showing the losses."""
    from tqdm import tqdm

    class EpochBar(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.bar = tqdm(total=epochs, desc=desc, unit="epoch", leave=False, file=sys.stderr)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.bar.set_postfix_str(" ".join(f"{k} {v:.4f}" for k, v in logs.items() if "loss" in k))
            self.bar.update(1)

        def close(self):
            self.bar.close()

    return EpochBar()
