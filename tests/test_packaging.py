"""``pip install .``: pyproject.toml against the requirements files, the package list and the templates.

The fast tests read the files only (no build, no network).  The slow one
builds the wheel from a copy of the sources (so that no ``build/`` or
``*.egg-info`` lands in the tree) with the setuptools already installed.
"""

from __future__ import annotations

import configparser
import fnmatch
import importlib
import importlib.util
import inspect
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]

#: Each requirements file and the extras of ``pip install '.[...]'`` that install the same requirements.
EQUIVALENT_EXTRAS = {
    "requirements.txt": ("tf",),
    "requirements-spark.txt": ("tf", "spark"),
    "requirements-dev.txt": ("dev",),
}
#: Requirements files for tools beside reelspace: the extra alone, without the runtime dependencies.
TOOL_EXTRAS = {"requirements-docs.txt": "docs"}
TEMPLATES_PACKAGE = "embedder.site_template"


def _key(requirement: Requirement) -> tuple:
    """What makes two requirement lines the same: name, extras, every specifier and the marker."""
    return (canonicalize_name(requirement.name), frozenset(requirement.extras),
            frozenset(str(s) for s in requirement.specifier), str(requirement.marker or ""))


def from_file(name: str) -> set[tuple]:
    """The requirements of a requirements file, ``-r`` includes followed."""
    found = set()
    for raw in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            found |= from_file(line.split(None, 1)[1])
            continue
        assert not line.startswith("-"), f"{name}: option {line!r} has no pyproject.toml counterpart"
        found.add(_key(Requirement(line)))
    return found


def from_pyproject(extras=()) -> set[tuple]:
    """What ``pip install '.[extras]'`` asks for: the dependencies plus the extras, self-references followed."""
    found = {_key(Requirement(line)) for line in PROJECT["dependencies"]}
    for extra in extras:
        for line in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == canonicalize_name(PROJECT["name"]):
                found |= from_pyproject(sorted(requirement.extras))
            else:
                found.add(_key(requirement))
    return found


def test_every_requirements_file_has_its_extras():
    assert sorted(p.name for p in ROOT.glob("requirements*.txt")) == sorted({**EQUIVALENT_EXTRAS, **TOOL_EXTRAS})


@pytest.mark.parametrize("name", sorted(TOOL_EXTRAS))
def test_tool_requirements_match_their_extra(name):
    extra = {_key(Requirement(line)) for line in PROJECT["optional-dependencies"][TOOL_EXTRAS[name]]}
    assert from_file(name) == extra


@pytest.mark.parametrize("name", sorted(EQUIVALENT_EXTRAS))
def test_requirements_file_matches_pyproject(name):
    extras = EQUIVALENT_EXTRAS[name]
    in_file, in_pyproject = from_file(name), from_pyproject(extras)
    assert in_file - in_pyproject == set(), f"in {name}, not in pip install '.[{','.join(extras)}]'"
    assert in_pyproject - in_file == set(), f"in pip install '.[{','.join(extras)}]', not in {name}"


def test_dependencies_are_requirements_txt_without_tensorflow():
    """``pip install .`` leaves TensorFlow out (the default build never imports it); ``[tf]`` adds it."""
    runtime = from_file("requirements.txt")
    tensorflow = {r for r in runtime if r[0].startswith("tensorflow")}
    assert {r[0] for r in tensorflow} == {"tensorflow", "tensorflow-cpu"}
    assert from_pyproject() == runtime - tensorflow
    assert from_pyproject(("tf",)) - from_pyproject() == tensorflow


def test_extras_are_the_documented_ones():
    assert set(PROJECT["optional-dependencies"]) == {"tf", "spark", "dev", "docs"}
    assert {r[0] for r in from_pyproject(("spark",)) - from_pyproject()} == {"pyspark"}


def test_console_script_is_the_cli_main():
    target = PROJECT["scripts"]["reelspace"]
    assert target == "embedder.cli:main"
    module, _, attribute = target.partition(":")
    main = getattr(importlib.import_module(module), attribute)
    assert callable(main)
    argv = inspect.signature(main).parameters["argv"]
    assert argv.default is None  # a console script calls main() with no arguments


def test_every_package_on_disk_is_shipped():
    on_disk = {".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "embedder").rglob("__init__.py")
               if "__pycache__" not in init.parts}
    assert "embedder.cli" in on_disk  # the walk found the subpackages
    packages = set(SETUPTOOLS["packages"])
    assert on_disk - packages == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    mapped = set(SETUPTOOLS.get("package-dir", {}))
    assert packages - on_disk - mapped == set(), "packages listed in pyproject.toml that do not exist"


def test_templates_are_package_data():
    source = ROOT / SETUPTOOLS["package-dir"][TEMPLATES_PACKAGE]
    assert source == ROOT / "site_template"
    assert TEMPLATES_PACKAGE in SETUPTOOLS["packages"]
    patterns = SETUPTOOLS["package-data"][TEMPLATES_PACKAGE]
    files = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()}
    assert {"templates/index.html.j2", "templates/explorer.html.j2", "static/explorer.js"} <= files
    shipped = {f for f in files if any(fnmatch.fnmatch(f, pattern) and f.count("/") == pattern.count("/")
                                       for pattern in patterns)}
    assert files - shipped == set(), "files in site_template/ that the wheel would leave out"


def test_default_templates_in_the_source_tree():
    from embedder.site.pages import DEFAULT_TEMPLATES

    assert DEFAULT_TEMPLATES == ROOT / "site_template"
    assert (DEFAULT_TEMPLATES / "templates" / "index.html.j2").is_file()


def _pages_module_at(root: Path, monkeypatch):
    """``embedder/site/pages.py`` loaded from a copy under ``root`` (as an installed package would lay it out)."""
    copy = root / "embedder" / "site" / "pages.py"
    copy.parent.mkdir(parents=True)
    shutil.copy(ROOT / "embedder" / "site" / "pages.py", copy)
    spec = importlib.util.spec_from_file_location(f"_pages_copy_{root.name}", copy)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_default_templates_prefer_the_installed_copy(tmp_path, monkeypatch):
    installed = tmp_path / "site-packages"
    (installed / "embedder" / "site_template" / "templates").mkdir(parents=True)
    assert _pages_module_at(installed, monkeypatch).DEFAULT_TEMPLATES == installed / "embedder" / "site_template"

    checkout = tmp_path / "checkout"  # no embedder/site_template: the source tree's site_template/
    assert _pages_module_at(checkout, monkeypatch).DEFAULT_TEMPLATES == checkout / "site_template"


@pytest.mark.slow
def test_wheel_ships_the_templates_and_the_command(tmp_path):
    setuptools = pytest.importorskip("setuptools")
    from packaging.version import Version

    if Version(setuptools.__version__) < Version("70.1"):  # older setuptools builds wheels with the wheel package
        pytest.importorskip("wheel")
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("embedder", "site_template"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "wheel")], check=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "wheel").glob("reelspace-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n.rsplit("/", 1)[0] for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{info}/entry_points.txt").decode())
        metadata = archive.read(f"{info}/METADATA").decode()
    modules = {p.relative_to(source).as_posix() for p in (source / "embedder").rglob("*.py")}
    assert modules - names == set()
    templates = {"embedder/" + p.relative_to(source).as_posix() for p in (source / "site_template").rglob("*")
                 if p.is_file()}
    assert "embedder/site_template/templates/index.html.j2" in templates
    assert templates - names == set()
    assert not any(n.startswith(("site_template/", "tests/")) for n in names)
    assert entry_points["console_scripts"]["reelspace"] == "embedder.cli:main"
    for extra in ("tf", "spark", "dev"):
        assert f"Provides-Extra: {extra}" in metadata
