"""Every file of the demo site, built from injected vectors, against its golden copy (``tests/golden_site.py``)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests import golden_site

if importlib.util.find_spec("openTSNE") is None:  # found, not imported: collection stays quick
    pytest.skip("openTSNE is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return golden_site.site_files(golden_site.build_site(tmp_path_factory.mktemp("golden") / "site"))


def test_every_file_of_the_demo_site_matches_the_golden_copy(built):
    problems = golden_site.differences(built)
    assert not problems, (f"{len(problems)} file(s) differ from tests/golden/site; after an intended change run "
                          f"{golden_site.REGEN} and review the diff\n\n" + "\n\n".join(problems))


def test_the_golden_copy_has_the_pages_the_data_and_the_sharing_files(built):
    for path in ["index.html", "explorer.html", "build.json", "data/model_card.json", "data/neighbours.json",
                 "projector/projector_config.json", "projector/projector_config.hosted.json", "projector/movies.bytes",
                 "tensorboard/projector_config.pbtxt", "explorer/movies-ids.js", "map.png", ".nojekyll"]:
        assert path in built, path
    text = built["explorer/movies-ids.js"].decode("utf-8")
    movies = json.loads(text[text.index(",") + 1: text.rindex(")")])
    pages = [path for path in built if path.startswith("movies/") and path.endswith(".html")]
    assert len(pages) == len(movies) > 0  # --movie-pages: a page per movie


def introduced(changed, built):
    """The differences ``changed`` has beyond those of the build itself (none while the golden copy is current)."""
    already = set(golden_site.differences(built))
    return [problem for problem in golden_site.differences(changed) if problem not in already]


def test_a_changed_file_is_shown_as_a_readable_diff(built):
    changed = dict(built)
    model_card = json.loads(built["data/model_card.json"])
    changed["data/model_card.json"] = json.dumps({**model_card, "added": "by the test"}).encode()
    changed["extra.txt"] = b"new"
    del changed["index.html"]
    problems = introduced(changed, built)
    assert problems[:2] == ["missing from the build: index.html", "new in the build (not in the golden copy): extra.txt"]
    [diff] = problems[2:]
    assert diff.startswith("--- golden/data/model_card.json\n+++ built/data/model_card.json")
    assert [line for line in diff.splitlines() if line.startswith("+ ")] == ['+ "added": "by the test",']  # keys sorted


def test_hashed_files_are_compared_by_their_hash(built):
    size = len(built["projector/movies.bytes"])
    changed = dict(built, **{"projector/movies.bytes": built["projector/movies.bytes"][:-4] + b"\0\0\0\0"})
    assert introduced(changed, built) == [
        f"projector/movies.bytes: bytes ({size} -> {size}) differ from the SHA-256 in manifest.json"]


def test_a_change_deep_in_a_long_line_is_shown_where_it_is():
    old = '__reelspace_data("layout/movies/tsne",{"xy":"' + "A" * 900 + "B" + "C" * 300 + '"});'
    diff = golden_site.text_diff("explorer/layout-movies-tsne.js", old.encode(), old.replace("B", "D").encode())
    removed, added = [line for line in diff.splitlines() if line[:1] in "-+" and not line.startswith(("---", "+++"))]
    assert "(column" in removed and "AB" in removed and "AD" in added
    assert max(len(line) for line in diff.splitlines()) < golden_site.LINE_WIDTH + 40
