import pytest

from embedder.errors import BuildError
from embedder.output import MARKER, SiteFiles, write_site


def files(**content):
    site = SiteFiles()
    for name, text in content.items():
        site.add(name.replace("__", "/"), text)
    return site


def test_writes_and_marks_the_site(tmp_path):
    out = tmp_path / "site"
    write_site(files(index_html="<p>hi</p>", data__x_json="{}"), out)
    assert (out / "index_html").read_text() == "<p>hi</p>"
    assert (out / "data" / "x_json").read_text() == "{}"
    assert (out / MARKER).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # no staging left behind


def test_rebuild_replaces_whole_site_and_keeps_cname(tmp_path):
    out = tmp_path / "site"
    write_site(files(a="1", b="2"), out)
    (out / "CNAME").write_text("movies.example.org\n")
    write_site(files(a="3"), out)
    assert (out / "a").read_text() == "3"
    assert not (out / "b").exists()
    assert (out / "CNAME").read_text() == "movies.example.org\n"


def test_refuses_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(BuildError, match="not built by reelspace"):
        write_site(files(a="1"), out)
    assert (out / "thesis.tex").read_text() == "precious"


def test_an_empty_folder_is_fine(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    write_site(files(a="1"), out)
    assert (out / "a").exists()


def test_failed_validation_leaves_the_previous_site(tmp_path):
    out = tmp_path / "site"
    write_site(files(a="old"), out)
    with pytest.raises(BuildError, match="failed validation: bad thing"):
        write_site(files(a="new"), out, validate=lambda root: ["bad thing", "worse thing"])
    assert (out / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_interrupt_while_writing_leaves_the_previous_site(tmp_path):
    out = tmp_path / "site"
    write_site(files(a="old"), out)

    def interrupted(root):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_site(files(a="new"), out, validate=interrupted)
    assert (out / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_paths_are_checked():
    site = SiteFiles()
    site.add("a/b.txt", "x")
    for bad in ("../escape", "/etc/passwd", "a/../../x"):
        with pytest.raises(ValueError):
            site.add(bad, "x")
    with pytest.raises(ValueError, match="two files"):
        site.add("a/b.txt", "y")
