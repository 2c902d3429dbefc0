#!/usr/bin/env python3
"""Benchmark the explorer on a large synthetic catalogue: build time, first-load bytes, time to interactive.

    python benchmarks/bench_explorer.py                       # 60,000 movies, PCA layout
    python benchmarks/bench_explorer.py --layouts pca,tsne,umap --movies 60000

Makes a seeded MovieLens-shaped catalogue in code (clustered vectors, titles of
realistic length, genres, years and a ratings log), builds the explorer's files
for it exactly as ``build.py`` does (``embedder.explorer.explorer_files``),
serves them from a local static server on 127.0.0.1 and opens them in Debian's
headless Chromium (Playwright, never a downloaded browser).  Prints:

* the time of each build step (layouts, neighbours, co-rated lists, files);
* first-load bytes (everything the page fetched until it was interactive, i.e.
  the map drawn with every point and the handlers attached) and the bytes
  once idle (titles, fetched right after the first paint, included);
* time to interactive (the ``reelspace-interactive`` performance mark,
  measured from navigation start) over several cold loads;
* frame intervals during a drag and a wheel zoom, the cost of a frame that
  redraws every point, and the time of a search and of a click.

The budget of the issue is a first load <= 2 MB and interactive within 1.5 s.
Asserts nothing; prints figures.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
GENRES = ("Drama", "Comedy", "Thriller", "Action", "Romance", "Adventure", "Crime", "Sci-Fi", "Horror", "Fantasy",
          "Children", "Animation", "Mystery", "Documentary", "War", "Musical", "Western", "IMAX", "Film-Noir")
WORDS = ("the night last dark love story man city return house day girl king blood war world time life secret "
         "dead summer red moon lost river song stranger island wild black road star home game part two").split()


def synthetic(n_movies: int, n_users: int, ratings_per_user: int, dim: int = 32, seed: int = 0):
    """A clustered catalogue and a log, as the values ``explorer_files`` takes (minus neighbours and layouts)."""
    from embedder.values import Interactions

    rng = np.random.default_rng(seed)
    clusters = 40
    cluster = rng.integers(0, clusters, n_movies)
    centres = rng.normal(size=(clusters, dim)) * 2.5
    vectors = (centres[cluster] + rng.normal(size=(n_movies, dim))).astype(np.float32)
    lengths = rng.integers(1, 6, n_movies)
    words = rng.choice(len(WORDS), size=(n_movies, 5))
    titles = np.array([" ".join(WORDS[w] for w in words[i, :lengths[i]]).title() + f" ({1920 + i % 104})"
                       for i in range(n_movies)], dtype=object)
    years = np.array([1920 + i % 104 for i in range(n_movies)])
    cluster_genres = [tuple(rng.choice(GENRES, size=rng.integers(1, 4), replace=False)) for _ in range(clusters)]
    genres = tuple(cluster_genres[c] for c in cluster)
    popularity = rng.zipf(1.3, n_movies).astype(np.float64)
    favourite = rng.integers(0, clusters, n_users)
    users, items = [], []
    by_cluster = [np.flatnonzero(cluster == c) for c in range(clusters)]
    for u in range(n_users):
        pool = by_cluster[favourite[u]]
        weights = popularity[pool] / popularity[pool].sum()
        k = min(len(pool), ratings_per_user)
        chosen = rng.choice(pool, size=k, replace=False, p=weights)
        users.append(np.full(k, u))
        items.append(chosen)
    user, item = np.concatenate(users), np.concatenate(items)
    log = Interactions(
        user_ids=np.array([str(u + 1) for u in range(n_users)], dtype=object),
        item_ids=np.array([str(i + 1) for i in range(n_movies)], dtype=object),
        user=user.astype(np.int32), item=item.astype(np.int32),
        rating=np.full(len(user), 4.0, dtype=np.float32), timestamp=np.arange(len(user), dtype=np.int64),
    )
    user_vectors = np.zeros((n_users, dim), dtype=np.float32)
    np.add.at(user_vectors, user, vectors[item])
    counts = np.bincount(item, minlength=n_movies)
    return log.item_ids, titles, years, genres, vectors, log, user_vectors, counts


def build(args, out: Path) -> dict[str, float]:
    from embedder.site.explorer import ExplorerInput, explorer_files
    from embedder.maps.layouts import compute_layouts, parse_layouts
    from embedder.model.neighbours import nearest
    from embedder.site.pages import DEFAULT_TEMPLATES

    timings = {}
    start = time.perf_counter()
    ids, titles, years, genres, vectors, log, user_vectors, counts = synthetic(args.movies, args.users, args.ratings_per_user)
    timings["synthetic data"] = time.perf_counter() - start
    start = time.perf_counter()
    neighbours = nearest(vectors, 10)
    timings["neighbours (top-10 cosine)"] = time.perf_counter() - start
    start = time.perf_counter()
    layouts = compute_layouts(vectors, user_vectors, parse_layouts(args.layouts), seed=0)
    timings["layouts"] = time.perf_counter() - start
    for key, seconds in layouts.seconds.items():
        timings[f"  {key}"] = seconds
    data = ExplorerInput(
        dataset_name=f"synthetic {args.movies:,}", movie_ids=ids, titles=titles, years=years, genres=genres,
        counts=counts, movie_vectors=vectors, neighbours=neighbours, user_ids=log.user_ids, user_vectors=user_vectors,
        interactions=log, layouts=layouts,
    )
    start = time.perf_counter()
    files = explorer_files(data, DEFAULT_TEMPLATES, movie_pages=args.movie_pages)
    timings["explorer files (co-rated, recommendations, shards)"] = time.perf_counter() - start
    for path, content in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    shutil.copytree(ROOT / "site_template" / "static", out / "static")
    (out / "index.html").write_text("<!doctype html><title>index</title>")
    timings["explorer data on disk (MB)"] = sum(len(v) for v in files.values()) / 1e6
    return timings


def measure(out: Path, loads: int) -> dict:
    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/explorer.html"
    results = {"tti": [], "wall": [], "first": [], "idle": [], "requests_first": 0}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                start = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("body[data-ready=true]", timeout=60_000)
                results["wall"].append(time.perf_counter() - start)
                first = page.evaluate(_BYTES_UNTIL_MARK)
                results["tti"].append(first["mark"])
                results["first"].append(first["bytes"])
                results["requests_first"] = first["requests"]
                page.wait_for_function("window.reelspace.state.movies.titles !== null", timeout=60_000)
                page.wait_for_timeout(500)  # anything else started right after the first paint
                results["idle"].append(page.evaluate(_BYTES_UNTIL_MARK.replace("entry.responseEnd <= mark", "true"))["bytes"])
                results["drawn"] = page.locator("#map").get_attribute("data-drawn")
                results["renderer"] = page.locator("#map").get_attribute("data-renderer")
                context.close()
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_function("window.reelspace.state.movies.titles !== null")
            results["frame_ms"] = page.evaluate(_FRAMES)
            results["gesture"] = gesture(page)
            page.wait_for_timeout(300)
            start = time.perf_counter()
            page.locator("#q").fill("night")
            page.wait_for_selector("#results:not([hidden]) [role=option]")
            results["search_ms"] = (time.perf_counter() - start) * 1000
            page.locator("#q").press("Escape")
            page.locator("#map").press("0")  # back to the whole map
            page.wait_for_timeout(300)
            point = page.evaluate("window.reelspace.screenOf(1234)")
            start = time.perf_counter()
            page.mouse.click(point["x"], point["y"])
            page.wait_for_selector("#panel:not([hidden]) #similar li")
            results["click_ms"] = (time.perf_counter() - start) * 1000
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    return results


# Bytes of the document and of every resource that finished before the interactive mark.
_BYTES_UNTIL_MARK = """() => {
    const mark = performance.getEntriesByName('reelspace-interactive')[0].startTime;
    const size = e => e.transferSize || e.encodedBodySize || 0;
    const nav = performance.getEntriesByType('navigation')[0];
    let bytes = size(nav), requests = 1;
    for (const entry of performance.getEntriesByType('resource')) {
        if (entry.responseEnd <= mark) { bytes += size(entry); requests += 1; }
    }
    return {mark, bytes, requests};
}"""

# Mean interval of 30 animation frames that each draw every point (no gesture shortcut).
_FRAMES = """() => new Promise(done => {
    const r = window.reelspace, stamps = [];
    function step(t) {
        stamps.push(t); r.state.view.cx += 0.0005; r.redraw();
        if (stamps.length < 31) requestAnimationFrame(step);
        else { r.state.view.cx -= 0.015; r.redraw(); done((stamps[30] - stamps[0]) / 30); }
    }
    requestAnimationFrame(step);
})"""

_START_FRAMES = """() => { window.__stamps = []; window.__stop = false;
    const f = t => { window.__stamps.push(t); if (!window.__stop) requestAnimationFrame(f); }; requestAnimationFrame(f); }"""
_STOP_FRAMES = """() => { window.__stop = true; const s = window.__stamps, d = s.slice(1).map((t, i) => t - s[i]).sort((a, b) => a - b);
    return {frames: d.length, median: d[d.length >> 1], p95: d[Math.floor(d.length * 0.95)], max: d[d.length - 1]}; }"""


def gesture(page) -> dict:
    """Frame intervals while dragging the map for 60 mouse moves and zooming 20 wheel steps."""
    page.evaluate(_START_FRAMES)
    page.mouse.move(640, 420)
    page.mouse.down()
    for i in range(60):
        page.mouse.move(640 + 4 * i, 420 + 2 * i)
    page.mouse.up()
    for _ in range(20):
        page.mouse.wheel(0, -60)
    return page.evaluate(_STOP_FRAMES)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=60_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--ratings-per-user", type=int, default=40)
    parser.add_argument("--layouts", default="pca", help="layouts to compute and time (default pca)")
    parser.add_argument("--loads", type=int, default=3, help="cold page loads to time (default 3)")
    parser.add_argument("--movie-pages", action="store_true", help="also render movies/<id>.html and time it")
    parser.add_argument("--keep", metavar="DIR", help="write the site here instead of a temporary folder")
    parser.add_argument("--reuse", action="store_true", help="with --keep: measure the site already there, do not build")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / "site"
        if not (args.reuse and args.keep and (out / "explorer.html").exists()):
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            print(f"synthetic catalogue: {args.movies:,} movies, {args.users:,} users, ~{args.users * args.ratings_per_user:,} ratings")
            timings = build(args, out)
            for key, value in timings.items():
                unit = "" if key.endswith("(MB)") else " s"
                print(f"  {key:<52} {value:8.2f}{unit}")
        if not Path(CHROMIUM).exists():
            print(f"{CHROMIUM} is missing: no browser figures (apt-get install chromium chromium-driver)")
            return 1
        r = measure(out, args.loads)
    print(f"browser: headless Chromium, {r['renderer']}, {r['drawn']} points drawn")
    print(f"first load: {statistics.median(r['first']) / 1e6:.2f} MB in {r['requests_first']} requests (budget 2 MB)")
    print(f"after idle (titles included): {statistics.median(r['idle']) / 1e6:.2f} MB")
    print(f"time to interactive: median {statistics.median(r['tti']) / 1000:.2f} s, "
          f"runs {', '.join(f'{t / 1000:.2f}' for t in r['tti'])} s (budget 1.5 s)")
    print(f"  wall clock from goto() to ready: median {statistics.median(r['wall']):.2f} s")
    g = r["gesture"]
    print(f"drag + wheel zoom: {g['frames']} frames, median {g['median']:.1f} ms, 95th percentile {g['p95']:.1f} ms, "
          f"max {g['max']:.1f} ms (the points are redrawn once the gesture pauses)")
    print(f"a frame that redraws every point: {r['frame_ms']:.1f} ms")
    print(f"search 'night' -> results: {r['search_ms']:.0f} ms; click -> neighbours shown: {r['click_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
