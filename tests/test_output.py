from pathlib import Path

import pytest

from embedder.errors import BuildError
from embedder.output import MARKER, SiteFiles, check_target, prepare_targets, write_site


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


# --- where a site may go: each refusal names the option it is about ---------------------------------------------

def test_a_refusal_names_the_option_it_is_about(tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(BuildError) as refused:
        check_target(theirs, "--tensorboard-logdir")
    assert "--tensorboard-logdir" in str(refused.value) and "--out" not in str(refused.value)
    with pytest.raises(BuildError, match="^--out .* exists and is not a directory .*for --out"):
        check_target(theirs / "notes.txt")


def test_a_folder_under_a_file_is_refused_before_anything_is_made(tmp_path):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("1,2,3\n")
    with pytest.raises(BuildError, match=r"--out .*ratings.csv/site is inside .*ratings.csv, which is a file"):
        prepare_targets([(ratings / "site", "--out")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ratings.csv"]


def test_the_current_folder_is_refused(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(BuildError, match=r"--out \. is the current folder.*e\.g\. --out site"):
        prepare_targets([(Path("."), "--out")])
    with pytest.raises(BuildError, match=r"--out \.\. is above the current folder"):
        check_target(Path(".."))
    assert list(here.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_a_symlinked_site_is_followed_and_the_link_kept(tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    write_site(files(a="old"), real)
    link.symlink_to(real)
    write_site(files(a="new"), link)
    assert link.is_symlink() and (link / "a").read_text() == "new" and (real / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]  # no .link.old-PID, no staging


def test_a_link_to_a_folder_it_did_not_make_is_refused_and_says_where_it_leads(tmp_path):
    mine, link = tmp_path / "mine", tmp_path / "link"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    link.symlink_to(mine)
    with pytest.raises(BuildError, match=r"refusing to replace .*link \(a link to .*mine\)"):
        write_site(files(a="1"), link)
    assert (mine / "thesis.tex").read_text() == "precious" and link.is_symlink()
