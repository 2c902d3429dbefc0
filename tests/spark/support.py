"""What the Spark tests share: the skip where Spark cannot run, and settings that start a small Spark fast."""

from __future__ import annotations

import importlib.util
import shutil

import pytest

#: Marks a module as Spark's: selected by ``-m spark``, skipped where pyspark or Java is missing.
NEEDS_SPARK = [
    pytest.mark.spark,
    pytest.mark.skipif(importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
                       reason="needs pyspark and Java 17+ (pip install -r requirements-spark.txt)"),
]


def fast_spark(partitions: int = 2) -> tuple[tuple[str, str], ...]:
    """Settings that start a small local Spark fast: interpreted plans, no adaptive re-planning, the JIT's quick tier."""
    return (
        ("spark.sql.shuffle.partitions", str(partitions)),
        ("spark.sql.codegen.wholeStage", "false"),
        ("spark.sql.adaptive.enabled", "false"),
        ("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1"),
    )
