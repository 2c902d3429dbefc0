"""The explorer in a real headless Chromium (Debian's, driven by Playwright; never downloaded).

One demo site is built per module (two Word2Vec epochs, PCA and t-SNE) with one
title replaced by an HTML/script injection attempt, served from a local
static server on 127.0.0.1, and opened in one browser.  ``.ci/run`` installs
the ``chromium`` and ``chromium-driver`` packages; where they are missing the
module is skipped.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> Evil & Co'
#: Movies rated once or twice, added to the demo: hidden on the map until asked for.
RARE = 12

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver; .ci/run does it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def payload(path: Path):
    """The JSON payload of an explorer data script: __reelspace_data("name", PAYLOAD);"""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1: text.rindex(")")])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from embedder.cli import build_parser
    from embedder.config import config_from_args
    from embedder.ratings.datasets import KNOWN
    from embedder.ratings.demo import make_demo
    from embedder.pipeline import build

    from tests.helpers import with_rare_movies

    out = tmp_path_factory.mktemp("explorer") / "site"
    dataset = with_rare_movies(make_demo(seed=0), n=RARE)
    titles = np.array(dataset.movies.titles, dtype=object)
    titles[5] = EVIL + " (2001)"
    dataset = replace(dataset, movies=replace(dataset.movies, titles=titles))
    args = build_parser().parse_args(["--dataset", "demo", "--out", str(out), "--epochs", "2", "-q",
                                           "--layouts", "pca,tsne"])
    config = config_from_args(args, {}, KNOWN)
    build(config, dataset=dataset, warn=lambda message: None)
    ids = payload(out / "explorer" / "movies-ids.js")
    movie_titles = payload(out / "explorer" / "movies-titles.js").split("\n")
    users = payload(out / "explorer" / "users-ids.js")["ids"]
    return {"root": out, "ids": ids, "titles": movie_titles, "users": users, "evil": ids.index(str(dataset.movies.ids[5]))}


@pytest.fixture(scope="module")
def server(site):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site["root"])))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.dialogs = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    assert page.errors == []
    context.close()


def open_explorer(page, server, suffix=""):
    page.goto(server + "explorer.html" + suffix)
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)
    return page.locator("#map")


def panel_title(page):
    page.wait_for_selector("#panel:not([hidden]) #panel-title")
    return page.locator("#panel-title").text_content()


def test_the_map_shows_every_movie_with_webgl(page, server, site):
    canvas = open_explorer(page, server)
    n = len(site["ids"])
    assert canvas.get_attribute("data-renderer") == "webgl"
    assert canvas.get_attribute("data-drawn") == str(n)
    assert canvas.get_attribute("data-points") == str(n - RARE)  # the barely rated wait for the legend's button
    assert f"{n - RARE} of {n} movies" in page.locator("#status").text_content()
    # Something other than the background was painted.
    colours = page.evaluate("""() => {
        const c = document.createElement('canvas'), m = document.getElementById('map');
        c.width = m.width; c.height = m.height; const x = c.getContext('2d'); x.drawImage(m, 0, 0);
        const d = x.getImageData(0, 0, c.width, c.height).data, seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
        return seen.size; }""")
    assert colours > 5


def test_the_canvas_2d_fallback_draws_every_movie(page, server, site):
    canvas = open_explorer(page, server, "?renderer=canvas&rare=1")
    assert canvas.get_attribute("data-renderer") == "canvas"
    assert canvas.get_attribute("data-drawn") == str(len(site["ids"]))


def test_search_finds_a_title_from_the_keyboard(page, server, site):
    open_explorer(page, server)
    row = 0
    title = site["titles"][row]
    page.locator("#q").fill(title[:6])
    page.wait_for_selector("#results:not([hidden]) [role=option]")
    assert title in page.locator("#results").text_content()
    page.locator("#q").fill(title)
    page.wait_for_function("document.querySelector('#results [aria-selected=true] .t') && "
                           f"document.querySelector('#results [aria-selected=true] .t').textContent.startsWith({json.dumps(title)})")
    page.locator("#q").press("Enter")
    assert panel_title(page).startswith(title)
    assert page.evaluate("location.hash") == "#movie=" + site["ids"][row]
    # Focus moved to the panel, so the keyboard continues there.
    assert page.evaluate("document.activeElement.id") == "panel-title"


def test_clicking_a_point_shows_its_neighbours_and_the_url_follows(page, server, site):
    open_explorer(page, server)
    label_boxes(page)
    # A point that no region name covers (a name is a button over the map: clicking it opens the region).
    point = page.evaluate("""() => { for (let row = 17; ; row++) { const p = window.reelspace.screenOf(row);
        if (document.elementFromPoint(p.x, p.y).id === 'map') return p; } }""")
    row = page.evaluate(f"window.reelspace.pick({point['x']}, {point['y']})")
    assert row >= 0
    page.mouse.click(point["x"], point["y"])
    assert panel_title(page).startswith(site["titles"][row])
    assert page.evaluate("location.hash") == "#movie=" + site["ids"][row]
    assert page.locator("#similar li").count() == 10
    assert page.locator("#corated li").count() == 10
    assert int(page.locator("#map").get_attribute("data-marks")) == 11
    first = page.locator("#similar li a").first
    target = first.get_attribute("href")
    first.click()
    page.wait_for_function(f"location.hash === {json.dumps(target)}")
    other = site["ids"].index(target.split("=", 1)[1])
    page.wait_for_function(f"document.getElementById('panel-title').textContent.startsWith({json.dumps(site['titles'][other])})")


def test_movie_deep_link_opens_the_movie(page, server, site):
    row = 42
    open_explorer(page, server, "#movie=" + site["ids"][row])
    assert panel_title(page).startswith(site["titles"][row])
    assert page.locator("#similar li").count() == 10


def test_user_deep_link_shows_recommendations_with_reasons(page, server, site):
    user = site["users"][3]
    canvas = open_explorer(page, server, "#user=" + user)
    assert panel_title(page) == "User " + user
    items = page.locator("#recommendations li")
    assert items.count() == 10
    for text in items.all_text_contents():
        assert "because you rated" in text
    assert int(canvas.get_attribute("data-marks")) > 10  # rated movies and recommendations outlined
    similar = page.locator("#similar-users li a")
    assert similar.count() == 10
    other = similar.first.text_content().removeprefix("User ")
    assert other != user and other in site["users"]
    similar.first.click()
    page.wait_for_function("other => document.getElementById('panel-title').textContent === 'User ' + other", arg=other)
    assert page.evaluate("location.hash") == "#user=" + other
    page.locator("#panel-close").click()
    page.wait_for_selector("#panel", state="hidden")
    assert page.evaluate("location.hash") == ""


def test_a_title_with_script_is_shown_as_text(page, server, site):
    open_explorer(page, server)
    page.locator("#q").fill("<script>")
    page.wait_for_selector("#results:not([hidden]) [role=option]")
    assert EVIL in page.locator("#results [role=option] .t").first.text_content()
    page.locator("#q").press("Enter")
    assert EVIL in panel_title(page)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#panel img").count() == 0 and page.locator("#results img").count() == 0
    assert page.dialogs == []


def test_layouts_users_map_and_legend(page, server, site):
    canvas = open_explorer(page, server)
    n = len(site["ids"])
    assert canvas.get_attribute("data-layout") == "tsne"
    page.select_option("#layout", "pca")
    page.wait_for_function("document.getElementById('map').dataset.layout === 'pca'")
    assert canvas.get_attribute("data-drawn") == str(n)
    page.locator("#legend-items button").first.click()
    page.wait_for_function(f"Number(document.getElementById('map').dataset.points) < {n - RARE}")
    assert page.locator("#legend-items button").first.get_attribute("aria-pressed") == "false"
    page.locator("#all-genres").click()
    page.wait_for_function(f"document.getElementById('map').dataset.points === '{n - RARE}'")
    page.locator("#show-users").click()
    page.wait_for_function("document.getElementById('map').dataset.map === 'users'")
    page.wait_for_function(f"document.getElementById('map').dataset.drawn === '{len(site['users'])}'")


def test_it_works_from_file_urls(page, site):
    row = 7
    page.goto((site["root"] / "explorer.html").as_uri() + "#movie=" + site["ids"][row])
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)
    assert panel_title(page).startswith(site["titles"][row])


def test_phone_viewport(browser, server, site, tmp_path):
    """Nothing wider than the screen; the panel fits; the legend starts folded (screenshot in tmp_path)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "explorer.html#movie=" + site["ids"][3])
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)
    assert panel_title(page).startswith(site["titles"][3])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#legend").get_attribute("open") is None  # folded away on a phone
    box = page.locator("#panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(tmp_path / "phone.png"))
    context.close()


# --- the map's regions and the barely rated -------------------------------------------------------


def label_boxes(page):
    page.wait_for_function("Number(document.getElementById('labels').dataset.shown) > 0")
    return page.evaluate("""() => Array.from(document.querySelectorAll('#labels .region-label')).map(b => {
        const r = b.getBoundingClientRect(); return {text: b.textContent, box: [r.left, r.top, r.right, r.bottom]}; })""")


def test_region_names_are_drawn_without_overlaps_at_every_zoom(page, server):
    open_explorer(page, server)
    stage = page.locator("#stage").bounding_box()
    for zoom in range(3):
        labels = label_boxes(page)
        assert len(labels) >= (3 if zoom == 0 else 1)
        for i, a in enumerate(labels):
            x0, y0, x1, y1 = a["box"]
            assert x0 >= stage["x"] and x1 <= stage["x"] + stage["width"] and y0 >= stage["y"] and y1 <= stage["y"] + stage["height"]
            for b in labels[i + 1:]:
                u0, v0, u1, v1 = b["box"]
                assert x1 <= u0 or u1 <= x0 or y1 <= v0 or v1 <= y0, (a, b)
        page.locator("#map").focus()
        page.keyboard.press("+")  # zoom in: names are placed again once the gesture settles
        page.wait_for_timeout(400)


def test_clicking_a_region_name_lists_its_movies(page, server, site):
    open_explorer(page, server)
    label_boxes(page)
    first = page.locator("#labels .region-label").first
    name, region = first.text_content(), int(first.get_attribute("data-region"))
    first.click()
    assert panel_title(page) == name
    assert page.evaluate("location.hash") == f"#region={region}"
    listed = page.locator("#region-members li a")
    size = page.evaluate(f"window.reelspace.state.movies.regions.sizes[{region}]")
    assert listed.count() == min(size, 200)
    member = page.evaluate(f"""() => {{ const s = window.reelspace.state.movies;
        return Array.from(document.querySelectorAll('#region-members li a')).map(a => s.regions.member[s.index.get(decodeURIComponent(a.getAttribute('href').slice(7)))]); }}""")
    assert set(member) == {region}
    # The region stays lit, the rest of the map fades; its label is marked as chosen.
    assert page.locator(f"#labels .region-label[data-region='{region}']").get_attribute("aria-pressed") == "true"
    listed.first.click()
    page.wait_for_function("location.hash.startsWith('#movie=')")
    assert page.locator("#panel .region-line a").text_content() == name


def test_barely_rated_movies_are_hidden_but_findable_and_say_why(page, server, site):
    canvas = open_explorer(page, server)
    n = len(site["ids"])
    page.locator("#q").fill("Rarely Seen 3")
    page.wait_for_selector("#results:not([hidden]) [role=option]")
    page.locator("#q").press("Enter")
    assert panel_title(page).startswith("Rarely Seen 3")
    assert "Rated fewer than 5 times" in page.locator("#rare-note").text_content()
    assert page.locator("#panel h3").first.text_content() == "Nearest well-rated movies"
    assert page.locator("#similar li").count() == 10
    assert int(canvas.get_attribute("data-marks")) >= 1  # its own point is marked even while the rare are hidden
    rare_rows = set(page.evaluate("""() => { const s = window.reelspace.state.movies, out = [];
        for (let i = 0; i < s.rare.length; i++) if (s.rare[i]) out.push(i); return out; }"""))
    assert len(rare_rows) == RARE
    similar = page.evaluate("""() => { const s = window.reelspace.state.movies;
        return Array.from(document.querySelectorAll('#similar li a')).map(a => s.index.get(decodeURIComponent(a.getAttribute('href').slice(7)))); }""")
    assert not set(similar) & rare_rows
    page.locator("#show-rare").click()
    page.wait_for_function(f"document.getElementById('map').dataset.points === '{n}'")
    assert page.locator("#show-rare").get_attribute("aria-pressed") == "true"


def test_colour_by_region_lists_the_regions_in_the_legend(page, server):
    open_explorer(page, server)
    page.select_option("#colour-by", "region")
    page.wait_for_function("document.querySelector('#legend summary').textContent === 'Regions'")
    names = page.locator("#legend-items button .name").all_text_contents()
    assert names == page.evaluate("window.reelspace.state.movies.regions.names")
    page.locator("#legend-items button").nth(1).click()
    page.wait_for_function("location.hash === '#region=1'")
