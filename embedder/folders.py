"""The folders a build replaces whole, and the checks that keep inputs, sources and each other out of them.

``output_targets`` names them (the site, an external TensorBoard logdir) for
``output.prepare_targets`` and the locks; ``folder_problems`` is what
``config.make_config`` reports about them before any work is done.  Both
take the build's ``SiteConfig`` and ``DataConfig``.
"""

from __future__ import annotations

from pathlib import Path


def folder_problems(site, data) -> list[str]:
    """Every problem with ``--out``, ``--tensorboard-logdir``, ``--posters`` and ``--projector-html``."""
    problems: list[str] = []
    _check_paths(site, data, problems)
    _check_sharing(site, problems)
    return problems


def _check_paths(site, data, problems: list[str]) -> None:
    out = site.out_dir.resolve()
    protected = [site.template_dir.resolve(), site.template_dir.resolve().parent]
    for path in protected:
        if out == path or out in path.parents:
            problems.append(f"--out {site.out_dir} would replace {path}, which holds sources or data: choose another folder")
            break
    problems.extend(_inputs_inside(site.out_dir, "--out", data, site))
    logdir = site.tensorboard_logdir
    if site.tensorboard and logdir is not None and not _holds(out, logdir.resolve()):  # an external logdir is replaced whole too
        problems.extend(_inputs_inside(logdir, "--tensorboard-logdir", data, site))
    if site.posters is not None and not site.posters.is_dir():
        problems.append(f"--posters {site.posters} is not a directory")


def _inputs_inside(folder: Path, option: str, data, site) -> list[str]:
    """A folder the build replaces whole must not hold an input: the first one it holds, as a problem."""
    replaced = folder.resolve()
    inputs = (("--ratings", data.ratings), ("--movies", data.read.movies), ("--posters", site.posters),
              ("--projector-html", site.projector_html))
    for flag, path in inputs:
        if path is not None and _holds(replaced, Path(path).resolve()):
            return [f"{option} {folder} holds {flag} {path}, which a build would delete (it replaces {option} "
                    f"whole): choose another folder for {option}"]
    return []


def _holds(folder: Path, path: Path) -> bool:
    return folder == path or folder in path.parents


def output_targets(site) -> list[tuple[Path, str]]:
    """The folders a build replaces whole, each with the option that names it: the site, an external TensorBoard logdir."""
    from embedder.site.sharing import tensorboard_target

    targets = [(site.out_dir, "--out")]
    if tensorboard_target(site)[1] is not None:
        targets.append((site.tensorboard_logdir, "--tensorboard-logdir"))
    return targets


#: Folders and files of the site a TensorBoard logdir inside it must not take.
_SITE_NAMES = ("projector", "data", "static", "index.html", "build.json", "explorer", "explorer.html", "movies")


def _check_sharing(site, problems: list[str]) -> None:
    """The TensorBoard logdir and the self-hosted projector page."""
    if site.projector_html is not None and not site.projector_html.is_file():
        problems.append(f"--projector-html {site.projector_html} is not a file (give the standalone projector's index.html)")
    if site.tensorboard_logdir is None:
        return
    if not site.tensorboard:
        problems.append("--tensorboard-logdir and --no-tensorboard contradict each other: pass one")
    out, logdir = site.out_dir.resolve(), site.tensorboard_logdir.resolve()
    protected = [site.template_dir.resolve(), site.template_dir.resolve().parent]
    if logdir == out or logdir in out.parents or any(logdir == p or logdir in p.parents for p in protected):
        problems.append(f"--tensorboard-logdir {site.tensorboard_logdir} would replace the site or the sources: choose its own folder")
    elif out in logdir.parents and logdir.relative_to(out).parts[0] in _SITE_NAMES:
        problems.append(f"--tensorboard-logdir {site.tensorboard_logdir} would take the site's own {logdir.relative_to(out).parts[0]}: choose another folder")
