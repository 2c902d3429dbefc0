"""The docs as a product: the README stays a front page, the CLI reference follows the parsers,
no page sends readers to files they do not have, and every link lands.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"

#: Text users must never be sent to: a folder they do not have, and tracker numbers.
FORBIDDEN = (re.compile(re.escape("../shared")), re.compile(r"\bissue\s*#?\d", re.IGNORECASE))

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_LINK = re.compile(r"(?<!\\)!?\[(?:[^\[\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""<(?:a|img)\b[^>]*?\b(?:href|src)=["']([^"']+)["']""", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_ID = re.compile(r"""\b(?:id|name)=["']([^"']+)["']""")


def _gen_cli():
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen_cli():
    return _gen_cli()


@pytest.fixture(scope="module")
def parsers(gen_cli):
    return gen_cli.all_parsers()


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _prose(text: str) -> str:
    """Markdown without code blocks and code spans, where links and headings live."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


# --- (a) the CLI reference ----------------------------------------------------------------------


def test_every_option_of_every_command_is_in_the_cli_reference(gen_cli, parsers):
    page = CLI_PAGE.read_text(encoding="utf-8")
    missing = [f"{name} {option}" for name, parser in parsers for action in parser._actions if gen_cli.visible(action)
               for option in action.option_strings if f"`{option}`" not in page]
    assert not missing, f"not in {_name(CLI_PAGE)}: {missing} (run python docs/gen_cli.py)"


def test_the_cli_reference_is_current(gen_cli):
    assert CLI_PAGE.read_text(encoding="utf-8") == gen_cli.render(), (
        f"{_name(CLI_PAGE)} is stale: run python docs/gen_cli.py")


def test_gen_cli_check_says_whether_the_page_is_stale(gen_cli, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gen_cli, "TARGET", tmp_path / "cli.md")
    monkeypatch.setattr(gen_cli, "ROOT", tmp_path)
    assert gen_cli.main(["--check"]) == 1  # no page yet
    assert gen_cli.main([]) == 0 and (tmp_path / "cli.md").read_text(encoding="utf-8") == gen_cli.render()
    assert gen_cli.main(["--check"]) == 0
    (tmp_path / "cli.md").write_text("# old\n", encoding="utf-8")
    assert gen_cli.main(["--check"]) == 1
    capsys.readouterr()


def test_every_command_has_a_section(parsers):
    page = CLI_PAGE.read_text(encoding="utf-8")
    assert len(parsers) >= 5
    for name, _ in parsers:
        assert f"## `{name}`" in page


# --- (b) the README is a front page -------------------------------------------------------------


def test_readme_is_at_most_250_lines():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move detail to a page under docs/"


# --- (c) nothing points readers at what they do not have ----------------------------------------


@pytest.mark.parametrize("path", _markdown_files(), ids=_name)
def test_pages_cite_no_shared_folder_and_no_issue_numbers(path):
    text = path.read_text(encoding="utf-8")
    found = [f"{_name(path)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
             for pattern in FORBIDDEN for m in pattern.finditer(text)]
    assert not found, found


def test_help_texts_cite_no_shared_folder_and_no_issue_numbers(gen_cli, parsers):
    found = [f"{name}: {pattern.search(text).group(0)!r} in {' '.join(text.split())[:100]!r}"
             for name, parser in parsers for text in gen_cli.help_texts(parser)
             for pattern in FORBIDDEN if pattern.search(text)]
    assert not found, found


# --- (d) every relative link lands --------------------------------------------------------------


def _links(path: Path) -> list[str]:
    text = _prose(path.read_text(encoding="utf-8"))
    return [m.group(1) for m in _LINK.finditer(text)] + [m.group(1) for m in _HTML_LINK.finditer(text)]


def _relative(target: str) -> bool:
    return not (re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("//", "/")))


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (what MkDocs links to)."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text).replace("\\", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    seen: dict[str, int] = {}
    anchors = set(_HTML_ID.findall(text))
    for match in _HEADING.finditer(_FENCE.sub("", text)):
        slug = _slug(match.group(2))
        anchors.add(slug if slug not in seen else f"{slug}_{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


@pytest.mark.parametrize("path", _markdown_files(), ids=_name)
def test_relative_links_point_to_existing_files(path):
    broken = []
    for target in filter(_relative, _links(path)):
        file, _, anchor = target.partition("#")
        destination = (path.parent / file).resolve() if file else path
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {_name(destination)})")
    assert not broken, f"{_name(path)}: {broken}"


def test_the_link_finder_finds_links_and_skips_code(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("See [a](a.md) and ![pic](img/p.png \"title\").\n\n`[not](code.md)`\n\n"
                    "```\n[not](fenced.md)\n```\n\n<a href=\"b.md#x\">b</a> [web](https://example.org) \\[data\\]\n",
                    encoding="utf-8")
    assert sorted(_links(page)) == ["a.md", "b.md#x", "https://example.org", "img/p.png"]
    assert _slug("How the defaults were chosen (val split only)") == "how-the-defaults-were-chosen-val-split-only"
    assert _slug("`python build.py publish gh-pages`") == "python-buildpy-publish-gh-pages"


# --- (e) the documentation site builds ----------------------------------------------------------


@pytest.mark.slow
def test_mkdocs_build_strict_succeeds(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -r requirements-docs.txt)")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "cli" / "index.html").is_file()
