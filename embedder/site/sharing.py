"""What a build adds for sharing: the TensorBoard logdir, a self-hosted projector page, ``build.json``.

All of it is made from the in-memory projector bundle, next to the site:

* the TensorBoard logdir (``tensorboard.logdir_files``) goes into the site as
  ``tensorboard/`` by default, or into ``--tensorboard-logdir DIR`` (a folder
  inside the site stays part of the site; one outside it is written on its
  own, also atomically);
* ``--projector-html PATH`` copies a user-supplied standalone projector page
  (e.g. ``index.html`` of a clone of tensorflow/embedding-projector-standalone)
  to ``projector/index.html`` and the relative config to
  ``projector/oss_data/oss_demo_projector_config.json``, which that page opens
  when it has no ``?config=`` (docs/projector-format.md, "Paths, links and hosting").  Paths in that
  config resolve against the page, i.e. ``projector/``, where the data is.
  The build never downloads the page;
* ``build.json`` tells ``python build.py publish ...`` what was built: the
  dataset, the settings, the base URL and where the pieces are.  It holds no
  time stamp and no local path, so an unchanged rebuild gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from embedder import __version__
from embedder.errors import BuildError
from embedder.output import SiteFiles
from embedder.site.projector import CONFIG_NAME, HOSTED_CONFIG_NAME, hosted_config_url, projector_link
from embedder.site.tensorboard import DEFAULT_FOLDER, logdir_files, validate_logdir

#: The manifest the publishers read.
MANIFEST = "build.json"
#: Where the standalone projector page loads its config from when given no ``?config=``.
SELF_HOSTED_CONFIG = "oss_data/oss_demo_projector_config.json"
#: Files copied from beside ``--projector-html`` when present.
SELF_HOSTED_EXTRAS = ("favicon.png",)


@dataclass(frozen=True)
class Sharing:
    """The sharing files of one build.

    ``site`` goes into the site; ``logdir`` (with ``logdir_path``) is an
    external TensorBoard logdir written on its own, or None.
    """

    site: dict[str, bytes]
    tensorboard_folder: str | None
    self_hosted: str | None
    logdir: SiteFiles | None = None
    logdir_path: Path | None = None

    def check(self, root: Path) -> list[str]:
        """Validate the staged site's logdir (the projector bundle is validated elsewhere)."""
        if self.tensorboard_folder is None:
            return []
        return validate_logdir(Path(root) / self.tensorboard_folder)

    def index_fields(self) -> dict:
        """The ``IndexContext`` fields this build sets."""
        return {"tensorboard": self.tensorboard_folder, "self_hosted": self.self_hosted}


def tensorboard_target(site_config) -> tuple[str | None, Path | None]:
    """Return ``(folder inside the site, None)``, ``(None, external logdir)`` or, with no logdir, ``(None, None)``."""
    if not site_config.tensorboard:
        return None, None
    logdir = site_config.tensorboard_logdir
    if logdir is None:
        return DEFAULT_FOLDER, None
    out, target = Path(site_config.out_dir).resolve(), Path(logdir).resolve()
    if out in target.parents:
        return target.relative_to(out).as_posix(), None
    return None, Path(logdir)


def sharing_files(site_config, settings: Mapping, dataset_name: str, bundle: dict[str, bytes], folder: str) -> Sharing:
    """Make the logdir, the self-hosted page and ``build.json`` for one build.

    ``site_config`` is the build's ``SiteConfig``; ``settings`` every setting
    by name (``BuildConfig.settings``), written into ``build.json`` as tables.
    """
    site: dict[str, bytes] = {}
    inside, outside = tensorboard_target(site_config)
    logdir = logdir_files(bundle, folder) if inside or outside else {}
    external = None
    if inside is not None:
        site.update((f"{inside}/{name}", data) for name, data in logdir.items())
    elif outside is not None:
        external = SiteFiles()
        external.update(logdir)
    self_hosted = None
    if site_config.projector_html is not None:
        site.update(self_hosted_files(Path(site_config.projector_html), bundle, folder))
        self_hosted = f"{folder}/index.html"
    sharing = Sharing(site, inside, self_hosted, external, outside)
    site[MANIFEST] = manifest_json(site_config.base_url, settings, dataset_name, bundle, folder, sharing)
    return sharing


def self_hosted_files(page: Path, bundle: dict[str, bytes], folder: str) -> dict[str, bytes]:
    """Copy the user's standalone projector page beside the data and give it the relative config."""
    try:
        html = page.read_bytes()
    except OSError as error:
        raise BuildError(f"--projector-html {page}: cannot read it ({error.strerror})") from None
    if b"<" not in html[:4096]:
        raise BuildError(f"--projector-html {page} does not look like an HTML page (expected the standalone projector's index.html)")
    files = {f"{folder}/index.html": html, f"{folder}/{SELF_HOSTED_CONFIG}": bundle[f"{folder}/{CONFIG_NAME}"]}
    for name in SELF_HOSTED_EXTRAS:
        extra = page.parent / name
        if extra.is_file():
            files[f"{folder}/{name}"] = extra.read_bytes()
    return files


def manifest_json(base_url: str | None, settings: Mapping, dataset_name: str, bundle: dict[str, bytes], folder: str,
                  sharing: Sharing) -> bytes:
    """Return ``build.json``: what was built, with which settings, for which address."""
    embeddings = json.loads(bundle[f"{folder}/{CONFIG_NAME}"])["embeddings"]
    manifest = {
        "generator": f"reelspace {__version__}",
        "dataset": dataset_name,
        "embeddings": [{"name": e["tensorName"], "shape": e["tensorShape"]} for e in embeddings],
        "settings": build_settings(settings),
        "base_url": base_url,
        "projector": {
            "folder": folder,
            "config": f"{folder}/{CONFIG_NAME}",
            "hosted_config": f"{folder}/{HOSTED_CONFIG_NAME}" if base_url else None,
            "hosted_config_url": hosted_config_url(base_url, folder) if base_url else None,
            "link": projector_link(base_url, folder) if base_url else None,
            "self_hosted": sharing.self_hosted,
        },
        "tensorboard": sharing.tensorboard_folder,
    }
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def build_settings(settings: Mapping) -> dict:
    """Every setting of the build as ``--config`` tables, but local paths (the site is published):
    ``--config build.json`` repeats the build (with ``--ratings`` given again for a local file)."""
    from embedder.settings import as_tables

    return as_tables(settings, paths=False)
