"""Starting Spark for reelspace: settings, a quiet start, and small frame helpers.

Nothing here imports pyspark at import time; ``spark_session`` does.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from embedder.errors import ConfigError

INSTALL_HINT = "pip install -r requirements-spark.txt"
_QUIET_LOG4J = """\
# Written by reelspace (embedder/spark/session.py): Spark's errors only, on stderr.
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
# Spark's own loggers set explicitly to the root's level: Spark then announces no "default log level".
logger.spark.name = org.apache.spark
logger.spark.level = error
"""


@dataclass(frozen=True)
class SparkParams:
    """Where Spark runs: ``--spark-master`` and ``--spark-conf``.

    ``master`` None leaves it to spark-submit (or ``spark-defaults.conf``),
    which is ``local[*]`` for a plain ``python build.py``.  ``conf`` holds
    ``(key, value)`` pairs in command-line order; they override reelspace's
    own defaults.  ``word2vec_partitions`` is Spark Word2Vec's
    ``numPartitions``: 1 trains like one sequential SGD (the closest to
    gensim); more runs faster on a cluster, with coarser vectors.
    """

    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()
    word2vec_partitions: int = 1


def missing_spark(env: Mapping[str, str]) -> list[str]:
    """The problem (one line) when pyspark or a ``java`` executable cannot be found."""
    java_home = env.get("JAVA_HOME", "")
    java = shutil.which("java", path=env.get("PATH")) or (java_home and Path(java_home, "bin", "java").is_file())
    if importlib.util.find_spec("pyspark") is None or not java:
        return [f"--engine spark needs pyspark and Java 17+: {INSTALL_HINT}"]
    return []


def spark_session(params: SparkParams, *, progress: bool = False):
    """Start a SparkSession: quiet logs, no web UI, UTC; ``params.conf`` wins.

    ``run_spark`` calls this only when no session is running: one started by
    a notebook or a test is used as it is.

    Raises ConfigError when the JVM cannot start (no Java, or one older than 17).
    """
    from pyspark.sql import SparkSession

    given = dict(params.conf)
    conf = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "true" if progress else "false",
        "spark.sql.session.timeZone": "UTC",
        **given,
        # The user's JVM options come last, so their own log4j2 file wins over this one.
        "spark.driver.extraJavaOptions": " ".join(filter(None, (f"-Dlog4j2.configurationFile=file:{_quiet_log4j()}",
                                                                given.get("spark.driver.extraJavaOptions")))),
    }
    builder = SparkSession.builder.appName("reelspace")
    if params.master:
        builder = builder.master(params.master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        with quiet_pandas():
            spark = builder.getOrCreate()
    except Exception as error:  # the JVM did not start: pyspark raises a bare runtime error
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ConfigError(f"could not start Spark ({first}); --engine spark needs Java 17+ and pyspark: "
                          f"{INSTALL_HINT}") from None
    master = spark.conf.get("spark.master", "")
    if master.startswith("local") and "spark.sql.shuffle.partitions" not in given:
        # 200 shuffle partitions (the default, sized for clusters) is mostly task overhead on one machine.
        cores = master[6:-1] if master.startswith("local[") else "1"
        cores = int(cores) if cores.isdigit() else os.cpu_count() or 1
        spark.conf.set("spark.sql.shuffle.partitions", str(2 * cores))
    return spark


def _quiet_log4j() -> str:
    """A log4j2 file that prints errors only (Spark's default prints every warning at start-up)."""
    path = Path(tempfile.gettempdir()) / "reelspace-spark-log4j2.properties"
    if not path.is_file() or path.read_text() != _QUIET_LOG4J:
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(_QUIET_LOG4J)
        os.replace(scratch, path)
    return str(path)


@contextmanager
def quiet_pandas():
    """pyspark warns about pandas 3 on import; nothing here goes through pandas."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        yield


def broadcast(frame):
    """``frame`` marked to be copied to every executor (a small lookup table)."""
    from pyspark.sql import functions as F

    return F.broadcast(frame)


def column(table, name: str, dtype) -> np.ndarray:
    """One column of a pyarrow table as a numpy array of ``dtype``."""
    return np.asarray(table.column(name).to_numpy(), dtype=dtype)
