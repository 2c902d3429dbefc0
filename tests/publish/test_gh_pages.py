"""publish gh-pages: real git, a local bare repository as the remote.

The work repository's remote is ``https://github.com/octo/movies.git`` (so the
Pages address can be derived from it), rewritten by git's ``insteadOf`` to the
local bare repository: nothing leaves the machine.
"""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from build import main
from embedder.publish import PublishError
from embedder.publish.pages_address import check_base_url, github_repo, pages_url

FAST = ["--dataset", "demo", "--deterministic", "--epochs", "2", "--vector-size", "8", "-q"]
REMOTE = "https://github.com/octo/movies.git"
BASE_URL = "https://octo.github.io/movies/"


def git(*args, cwd, check=True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stderr}")
    return done.stdout.strip()


def build(out, *extra):
    assert main([*FAST, "--out", str(out), *extra], env={}) == 0


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    site = tmp_path_factory.mktemp("ghp") / "site"
    build(site, "--base-url", BASE_URL)
    return site


@pytest.fixture
def repos(tmp_path, built):
    """(work repository with the site in output/, bare remote)."""
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("init", "-q", "-b", "main", str(work), cwd=tmp_path)
    for key, value in (("user.name", "Test"), ("user.email", "test@example.com"), (f"url.{bare}.insteadOf", REMOTE)):
        git("config", key, value, cwd=work)
    (work / ".gitignore").write_text("/output/\n")
    (work / "README.md").write_text("movies\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "init", cwd=work)
    git("remote", "add", "origin", REMOTE, cwd=work)
    shutil.copytree(built, work / "output")
    return work, bare


def publish(work, *extra, capsys=None, site=None):
    code = main(["publish", "gh-pages", "--repo", str(work), "--site", str(site or work / "output"), *extra], env={})
    out, err = capsys.readouterr() if capsys else ("", "")
    return code, out, err


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def branch_tree(bare, branch="gh-pages") -> dict[str, str]:
    lines = git("ls-tree", "-r", branch, cwd=bare).splitlines()
    return {line.split("\t", 1)[1]: line.split()[2] for line in lines}


def site_tree(site) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): blob_sha(p.read_bytes()) for p in Path(site).rglob("*") if p.is_file()}


def checkout_state(work):
    return (git("rev-parse", "HEAD", cwd=work), git("symbolic-ref", "HEAD", cwd=work),
            git("status", "--porcelain", "--ignored", cwd=work), git("ls-files", "-s", cwd=work),
            (work / "README.md").read_bytes())


@pytest.mark.slow
def test_publish_pushes_exactly_the_site_and_leaves_the_checkout_alone(repos, capsys):
    work, bare = repos
    before = checkout_state(work)
    code, out, err = publish(work, capsys=capsys)
    assert code == 0, err
    assert branch_tree(bare) == site_tree(work / "output")
    assert ".nojekyll" in branch_tree(bare) and "tensorboard/projector_config.pbtxt" in branch_tree(bare)
    message = git("log", "-1", "--format=%B", "gh-pages", cwd=bare)
    assert message.splitlines()[0] == "Publish demo embeddings (reelspace 0.1.0)"
    assert "movies · word2vec: 400 x 8" in message and "vector_size=8" in message and "deterministic=true" in message
    assert f"base URL: {BASE_URL}" in message and "source: " in message
    assert f"url:        {BASE_URL}" in out
    assert "share link: https://projector.tensorflow.org/?config=https%3A%2F%2Focto.github.io%2Fmovies%2Fprojector%2Fprojector_config.hosted.json" in out
    assert "published " in out and "gh-pages of octo/movies" in out
    assert checkout_state(work) == before  # HEAD, branch, index, working tree: untouched


@pytest.mark.slow
def test_a_rebuild_with_no_changes_makes_no_new_commit(repos, capsys):
    work, bare = repos
    assert publish(work)[0] == 0
    first = git("rev-parse", "gh-pages", cwd=bare)
    build(work / "output", "--base-url", BASE_URL)  # the same build again
    code, out, _ = publish(work, capsys=capsys)
    assert code == 0 and "no new commit" in out
    assert git("rev-parse", "gh-pages", cwd=bare) == first
    assert git("rev-parse", "gh-pages", cwd=work) == first  # the local branch too

    build(work / "output", "--base-url", BASE_URL, "--seed", "7")  # a real change
    code, out, _ = publish(work, capsys=capsys)
    assert code == 0 and "published " in out
    assert git("rev-parse", "gh-pages~1", cwd=bare) == first
    assert branch_tree(bare) == site_tree(work / "output")


@pytest.mark.slow
def test_a_deleted_remote_branch_is_pushed_again(repos, capsys):
    work, bare = repos
    assert publish(work)[0] == 0
    git("branch", "-D", "gh-pages", cwd=bare)
    code, out, _ = publish(work, capsys=capsys)  # same site: same tree as the local branch, but the remote lost it
    assert code == 0 and "pushed" in out
    assert branch_tree(bare) == site_tree(work / "output")


@pytest.mark.slow
def test_a_base_url_mismatch_is_explained_and_refused(repos, capsys):
    work, bare = repos
    git("remote", "set-url", "origin", "git@github.com:octo/films.git", cwd=work)
    git("config", f"url.{bare}.insteadOf", "git@github.com:octo/films.git", cwd=work)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert (f"the site was built with --base-url {BASE_URL} but this branch is served at https://octo.github.io/films/" in err)
    assert "rebuild with --base-url https://octo.github.io/films/" in err and "--allow-url-mismatch" in err
    assert git("branch", "--list", "gh-pages", cwd=bare) == ""  # nothing pushed

    code, out, _ = publish(work, "--allow-url-mismatch", capsys=capsys)
    assert code == 0 and "published anyway" in out
    assert branch_tree(bare) == site_tree(work / "output")


@pytest.mark.slow
def test_a_cname_on_the_branch_is_kept_and_decides_the_address(repos, tmp_path, capsys):
    work, bare = repos
    other = tmp_path / "other"
    git("clone", "-q", str(bare), str(other), cwd=tmp_path)
    git("checkout", "-q", "--orphan", "gh-pages", cwd=other)
    (other / "CNAME").write_text("movies.example.org\n")
    git("add", "CNAME", cwd=other)
    git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "cname", cwd=other)
    git("push", "-q", "origin", "gh-pages", cwd=other)

    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and "served at https://movies.example.org/" in err
    build(work / "output", "--base-url", "https://movies.example.org/")
    code, out, err = publish(work, "--message", "Deploy", capsys=capsys)
    assert code == 0, err
    assert "url:        https://movies.example.org/" in out
    tree = branch_tree(bare)
    assert tree.pop("CNAME") == blob_sha(b"movies.example.org")  # ghp-import writes it without a newline
    assert tree == site_tree(work / "output")
    assert git("log", "-1", "--format=%s", "gh-pages", cwd=bare) == "Deploy"


@pytest.mark.slow
def test_dry_run_commits_locally_without_pushing(repos, capsys):
    work, bare = repos
    code, out, _ = publish(work, "--dry-run", "--branch", "pages", capsys=capsys)
    assert code == 0 and "not pushed (--dry-run)" in out
    assert git("branch", "--list", "pages", cwd=bare) == ""
    assert git("ls-tree", "-r", "--name-only", "pages", cwd=work).splitlines() == sorted(site_tree(work / "output"))


@pytest.mark.slow
def test_a_failed_push_is_one_line_and_the_next_run_retries(repos, capsys):
    work, bare = repos
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pages are frozen today' >&2\nexit 1\n")
    hook.chmod(0o755)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert "git push to origin failed" in err and "run the same command again" in err
    hook.unlink()
    code, out, _ = publish(work, capsys=capsys)
    assert code == 0 and branch_tree(bare) == site_tree(work / "output")


@pytest.mark.slow
def test_preflight_refusals(repos, tmp_path, capsys):
    work, bare = repos
    code, _, err = publish(work, "--remote", "upstream", capsys=capsys)
    assert code == 1 and "no remote named 'upstream'" in err
    git("checkout", "-q", "-b", "gh-pages", cwd=work)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and "gh-pages is the branch checked out" in err
    git("checkout", "-q", "main", cwd=work)
    (tmp_path / "plain").mkdir()
    code, _, err = publish(tmp_path / "plain", site=work / "output", capsys=capsys)
    assert code == 1 and "not in a git repository" in err
    (work / "output" / "build.json").unlink()
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and "rebuild it with python build.py" in err
    assert git("branch", "--list", "gh-pages", cwd=bare) == ""


@pytest.mark.slow
def test_files_github_would_refuse_are_caught_before_committing(repos, capsys, monkeypatch):
    from embedder.publish import gh_pages

    work, bare = repos
    monkeypatch.setattr(gh_pages, "MAX_FILE_BYTES", 10_000)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and "GitHub refuses files over 100 MiB" in err
    assert git("branch", "--list", "gh-pages", cwd=work) == ""


@pytest.mark.parametrize("remote, expected", [
    ("https://github.com/octo/movies.git", "https://octo.github.io/movies/"),
    ("https://github.com/Octo/Movies", "https://octo.github.io/Movies/"),
    ("git@github.com:octo/movies.git", "https://octo.github.io/movies/"),
    ("ssh://git@github.com/octo/movies.git", "https://octo.github.io/movies/"),
    ("https://x-access-token:secret@github.com/octo/movies.git/", "https://octo.github.io/movies/"),
    ("https://github.com/octo/octo.github.io.git", "https://octo.github.io/"),
    ("https://gitlab.com/octo/movies.git", None),
    ("/srv/git/movies.git", None),
])
def test_pages_url_from_the_remote(remote, expected):
    assert pages_url(remote) == expected


def test_pages_url_from_a_cname_and_the_base_url_check():
    assert pages_url("https://github.com/octo/movies.git", "Movies.Example.org") == "https://movies.example.org/"
    assert github_repo("git@github.com:octo/movies.git") == "octo/movies"
    assert check_base_url("https://OCTO.github.io/movies", "https://octo.github.io/movies/", False) == []
    assert "without --base-url" in check_base_url(None, "https://octo.github.io/movies/", False)[0]
    assert "was not checked" in check_base_url("https://a/", None, False)[0]
    with pytest.raises(PublishError):
        check_base_url("https://a.github.io/x/", "https://a.github.io/y/", False)


# --- hostile branches and remotes --------------------------------------------------


def all_refs(repo) -> str:
    """Every ref and where it points (branches, tags, tracking refs): what must not move on a refusal."""
    return git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo)


def push_source_branch(work, name, *, remote=True, local=True):
    """A branch ``name`` holding the project's source (README.md), not checked out."""
    git("branch", name, "main", cwd=work)
    if remote:
        git("push", "-q", "origin", name, cwd=work)
    if not local:
        git("branch", "-D", name, cwd=work)


@pytest.mark.slow
@pytest.mark.parametrize("remote, local, holder", [
    (True, True, "main on origin"),
    (True, False, "main on origin"),
    (False, True, "your local main branch"),
])
def test_a_branch_holding_source_is_refused_and_no_ref_moves(repos, capsys, remote, local, holder):
    work, bare = repos
    git("push", "-q", "origin", "main", cwd=work)
    git("checkout", "-q", "-b", "feature", cwd=work)  # main is not checked out: only the source check stands
    if not local:
        git("branch", "-D", "main", cwd=work)
    if not remote:
        git("push", "-q", "origin", "--delete", "main", cwd=work)
    refs, remote_refs = all_refs(work), all_refs(bare)
    for extra in ((), ("--dry-run",)):
        code, out, err = publish(work, "--branch", "main", *extra, capsys=capsys)
        assert code == 1 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"error: refusing to publish to main: {holder} holds files that are not a reelspace site (")
        assert "README.md" in err and "--force" in err and err.rstrip().endswith("nothing was changed")
        assert all_refs(work) == refs and all_refs(bare) == remote_refs
    if remote:
        assert git("ls-tree", "--name-only", "main", cwd=bare).splitlines() == [".gitignore", "README.md"]


@pytest.mark.slow
def test_force_publishes_over_a_source_branch_on_top_of_its_history(repos, capsys):
    work, bare = repos
    push_source_branch(work, "docs")
    source = git("rev-parse", "docs", cwd=work)
    before = checkout_state(work)
    code, out, err = publish(work, "--branch", "docs", "--force", capsys=capsys)
    assert code == 0, err
    assert branch_tree(bare, "docs") == site_tree(work / "output")
    assert git("rev-parse", "docs~1", cwd=bare) == source  # a new commit on top: the source stays in history
    assert git("rev-parse", "docs", cwd=work) == git("rev-parse", "docs", cwd=bare)
    assert checkout_state(work) == before
    assert ("note: --force: docs on origin held files that are not a reelspace site (.gitignore, README.md); "
            "the new commit replaces them on top of its history") in out
    assert out.count("note: --force:") == 1  # the local branch was the same commit: said once


@pytest.mark.slow
def test_the_checked_out_branch_is_never_moved_even_with_force(repos, tmp_path, capsys):
    work, bare = repos
    git("push", "-q", "origin", "main", cwd=work)
    refs = all_refs(work)
    code, _, err = publish(work, "--branch", "main", "--force", capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert f"main is the branch checked out in {work}" in err and "even with --force" in err
    git("worktree", "add", "-q", "-b", "pages", str(tmp_path / "wt"), cwd=work)  # checked out elsewhere
    refs = all_refs(work)
    code, _, err = publish(work, "--branch", "pages", "--force", capsys=capsys)
    assert code == 1 and f"pages is the branch checked out in {tmp_path / 'wt'}" in err
    assert all_refs(work) == refs and git("branch", "--list", "pages", cwd=bare) == ""


@pytest.mark.slow
def test_a_previous_site_an_empty_branch_and_a_cname_only_branch_are_taken(repos, tmp_path, capsys):
    work, bare = repos
    assert publish(work)[0] == 0  # gh-pages now holds a site with its .reelspace-build marker
    assert ".reelspace-build" in branch_tree(bare)
    build(work / "output", "--base-url", BASE_URL, "--seed", "7")
    code, out, err = publish(work, capsys=capsys)
    assert code == 0 and "published " in out, err

    other = tmp_path / "other"  # an empty branch, pushed from another clone
    git("clone", "-q", str(bare), str(other), cwd=tmp_path)
    git("checkout", "-q", "--orphan", "empty", cwd=other)
    git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "--allow-empty", "-m", "empty", cwd=other)
    git("push", "-q", "origin", "empty", cwd=other)
    code, _, err = publish(work, "--branch", "empty", "--allow-url-mismatch", capsys=capsys)
    assert code == 0, err
    assert branch_tree(bare, "empty") == site_tree(work / "output")


@pytest.mark.slow
def test_a_marker_below_the_root_is_not_a_site(repos, capsys):
    work, bare = repos
    git("add", "-f", "output", cwd=work)  # a project that committed its built site in a folder
    git("commit", "-q", "-m", "site in a folder", cwd=work)
    git("branch", "pages", "main", cwd=work)
    refs = all_refs(work)
    code, _, err = publish(work, "--branch", "pages", "--dry-run", capsys=capsys)
    assert code == 1 and "your local pages branch holds files that are not a reelspace site (.gitignore, README.md, output)" in err
    assert all_refs(work) == refs


@pytest.mark.slow
@pytest.mark.parametrize("branch", ["a..b", "refs/heads/gh-pages", "-x", "HEAD", "x y", "x\nM 100644 inline README.md"])
def test_a_branch_name_git_would_not_take_is_refused_before_any_change(repos, capsys, branch):
    work, bare = repos
    refs = all_refs(work)
    code, _, err = publish(work, f"--branch={branch}", capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "is not a branch name" in err
    assert all_refs(work) == refs and all_refs(bare) == ""


@pytest.mark.slow
def test_an_unreachable_remote_is_one_line_naming_it_and_gits_first_error(repos, tmp_path, capsys):
    work, bare = repos
    missing = tmp_path / "missing.git"
    git("remote", "set-url", "origin", str(missing), cwd=work)
    refs = all_refs(work)
    code, out, err = publish(work, "--allow-url-mismatch", capsys=capsys)
    assert code == 1 and out == ""
    assert err == (f"error: could not reach the remote origin ({missing}) "
                   f"('{missing}' does not appear to be a git repository); nothing was published\n")
    assert all_refs(work) == refs


@pytest.mark.slow
def test_an_unreachable_rewritten_remote_names_both_urls_and_hides_credentials(repos, tmp_path, capsys):
    work, bare = repos
    secret_url = "https://octo:s3cr3t-token@github.com/octo/movies.git"
    missing = tmp_path / "missing.git"
    git("remote", "set-url", "origin", secret_url, cwd=work)
    git("config", f"url.{missing}.insteadOf", secret_url, cwd=work)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "s3cr3t" not in err
    assert err.startswith(f"error: could not reach the remote origin (https://***@github.com/octo/movies.git, "
                          f"which git rewrites to {missing}) ('{missing}' does not appear to be a git repository)")


@pytest.mark.slow
def test_dry_run_says_what_it_compared_with(repos, tmp_path, capsys):
    work, bare = repos
    code, out, _ = publish(work, "--dry-run", capsys=capsys)  # no gh-pages on the remote yet
    assert code == 0
    assert "not pushed (--dry-run); origin has no gh-pages branch yet, so a real run would push it" in out
    code, out, _ = publish(work, "--dry-run", capsys=capsys)
    assert code == 0 and "the local gh-pages branch already holds exactly" in out
    assert "origin has no gh-pages branch yet" in out and "of octo/movies already holds" not in out

    assert publish(work)[0] == 0
    code, out, _ = publish(work, "--dry-run", capsys=capsys)
    assert code == 0 and "gh-pages of octo/movies already holds exactly" in out
    assert "compared with gh-pages on origin): nothing to commit or push (--dry-run)" in out

    bare.rename(tmp_path / "moved.git")  # the remote cannot be reached now
    code, out, err = publish(work, "--dry-run", capsys=capsys)
    assert code == 0
    assert "the local gh-pages branch already holds exactly" in out
    assert "origin could not be reached, so it was not compared (--dry-run)" in out
    assert "of octo/movies already holds" not in out  # never claims what it did not check
    assert err.startswith("warning: could not reach the remote origin (") and err.count("\n") == 1
    assert "the dry run compares the site with the local gh-pages branch only" in err


@pytest.mark.slow
@pytest.mark.parametrize("base_url, problem", [
    ("http://octo.github.io/movies/", "must be an https:// URL"),
    ("https://octo.github.io/movies/?x=1", "must not have a query"),
    (5, "is not a string"),
])
def test_a_bad_base_url_in_build_json_is_refused_before_any_work(repos, capsys, base_url, problem):
    import json

    work, bare = repos
    manifest = work / "output" / "build.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "base_url": base_url}))
    refs = all_refs(work)
    code, _, err = publish(work, capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert f"build.json: its base URL {base_url!r} {problem}" in err and "rebuild with a correct --base-url" in err
    assert all_refs(work) == refs and all_refs(bare) == ""


@pytest.mark.slow
def test_publish_takes_no_base_url_of_its_own(repos, capsys):
    work, bare = repos
    with pytest.raises(SystemExit) as exit_:
        publish(work, "--base-url", "http://x/")
    assert exit_.value.code == 2 and "unrecognized arguments: --base-url" in capsys.readouterr().err
    assert all_refs(bare) == ""
