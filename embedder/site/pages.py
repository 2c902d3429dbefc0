"""Page contexts -> rendered HTML and static assets, as ``{relative path: bytes}``.

One Jinja environment, built here only: autoescape on (movie titles come
from CSV files and routinely contain ``&``, quotes and worse) and
``StrictUndefined``, so a typo in a template fails the build instead of
rendering an empty string.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

#: The templates rendered as pages (not a directory glob: partials are not pages).
PAGES = {"index.html": "index.html.j2"}


def _shipped_templates() -> Path:
    """The installed copy (the wheel maps ``site_template/`` to ``embedder/site_template``), else the source tree's."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "site_template"
    return installed if (installed / "templates").is_dir() else package.parent / "site_template"


#: The template folder shipped with reelspace (``templates/`` and ``static/``).
DEFAULT_TEMPLATES = _shipped_templates()


@dataclass(frozen=True)
class EmbeddingCard:
    """One row of the index page's embeddings table."""

    name: str
    shape: tuple[int, int]
    how: str
    bytes: str
    tsv: str
    metadata: str
    sprite: str | None = None
    #: Points in the projector files when support or ``--max-points`` keeps fewer than ``shape[0]``, and which.
    projector_points: int | None = None
    projector_note: str | None = None


@dataclass(frozen=True)
class IndexContext:
    """Everything ``index.html.j2`` may use, and nothing else."""

    page_title: str
    dataset: dict
    orientation: dict
    embeddings: list[EmbeddingCard]
    examples: list[dict]
    settings: list[tuple[str, str]]
    downloads: list[dict]
    neighbours_file: str
    projector_folder: str
    projector_link: str | None = None
    hosted_config: str | None = None
    build: dict = field(default_factory=dict)
    root: str = ""
    # Sharing: the TensorBoard logdir folder and the self-hosted projector page, when built.
    tensorboard: str | None = None
    self_hosted: str | None = None
    # --embedders: one row per embedder side by side (see embedder.tf_models.embedders.side_by_side).
    models: dict = field(default_factory=dict)
    # The "Model card" (embedder.quality.model_card.card_context): data, scoring and, with --evaluate, figures.
    model_card: dict = field(default_factory=dict)
    # The map (embedder.maps.index_fields): its picture, the support rule, its figures and biggest regions.
    map: dict = field(default_factory=dict)


def make_env(template_dir: Path):
    """The one Jinja environment for the site."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(Path(template_dir) / "templates")),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_site(context: IndexContext, template_dir: Path = DEFAULT_TEMPLATES) -> dict[str, bytes]:
    """Render every page and copy the static assets byte for byte."""
    env = make_env(template_dir)
    values = asdict(context)
    files = {path: env.get_template(name).render(**values).encode("utf-8") for path, name in PAGES.items()}
    static = Path(template_dir) / "static"
    for source in sorted(p for p in static.rglob("*") if p.is_file()):
        files["static/" + source.relative_to(static).as_posix()] = source.read_bytes()
    # GitHub Pages must not run Jekyll over the site (it hides files starting with "_").
    files[".nojekyll"] = b""
    return files


def human_size(n: int) -> str:
    """``1536`` -> ``"1.5 kB"``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"
