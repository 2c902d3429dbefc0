"""Printed hints name the command that works where the user is; the wrong Python is one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from embedder import invocation
from embedder.cli import missing_dependency

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv0, expected", [
    ("/home/me/.venv/bin/reelspace", "reelspace"),
    ("build.py", "python build.py"),
    ("/work/repo/build.py", "python build.py"),
    ("", "python build.py"),
])
def test_the_command_follows_how_reelspace_was_started(monkeypatch, argv0, expected):
    monkeypatch.setattr(sys, "argv", [argv0])
    assert invocation.command() == expected


def test_help_and_summary_hints_use_that_command(monkeypatch, capsys):
    from embedder.cli import build_parser
    from embedder.report import BuildReport

    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/reelspace"])
    assert build_parser().prog == "reelspace" and "reelspace --dataset demo" in build_parser().epilog
    summary = BuildReport("demo", "out", 1, 1, 1, {}).summary()
    assert "publish:  reelspace publish gh-pages --site out" in summary and "python build.py" not in summary


def test_a_missing_package_names_the_python_and_the_fix():
    line = missing_dependency("numpy")
    assert line.startswith(f"the package 'numpy' is not installed for {sys.executable}: ")
    assert "\n" not in line and ("requirements.txt" in line or ".venv" in line)


def test_the_wrong_python_gets_one_line(tmp_path):
    # A Python that cannot import numpy: an isolated interpreter whose path holds only the sources.
    code = ("import sys; sys.path = [p for p in sys.path if 'site-packages' not in p and 'dist-packages' not in p]; "
            f"sys.path.insert(0, {str(ROOT)!r}); sys.argv = ['build.py', '--dataset', 'demo']; "
            "from embedder.cli import main; raise SystemExit(main())")
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the package ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
