"""Output folders under hostile conditions, each refused in one line or survived whole.

Places no build can write, inputs inside the output, two builds into one
folder, and Ctrl-C in every window of the folder swap.  Interrupts are
injected deterministically (``KeyboardInterrupt`` from ``os.replace`` or
``shutil.rmtree`` at the matching call, before or after it does its work),
never by timing or real signals.
"""

import errno
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from build import main
from embedder import pipeline
from embedder.errors import BuildError
from embedder.output import MARKER, SiteFiles, hold_targets, interrupted_message, prepare_targets, write_site

ROOT = Path(__file__).resolve().parent.parent
DEMO = ["--dataset", "demo", "--epochs", "1", "-q", "--layouts", "pca"]


def files(text):
    site = SiteFiles()
    site.add("a", text)
    return site


def content(folder):
    return (folder / "a").read_text()


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*")) if p.is_file()}


def interrupt(monkeypatch, module, name, when, *, after=False):
    """Make ``module.name`` raise KeyboardInterrupt once, at the first call ``when(*args)`` matches.

    With ``after`` the call does its work first: the interrupt lands just after it returned.
    """
    real = getattr(module, name)
    armed = [True]

    def fake(*args, **kwargs):
        if armed[0] and when(*args):
            armed[0] = False
            if after:
                real(*args, **kwargs)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, fake)


def named(path, prefix):
    return Path(path).name.startswith(prefix)


def aside(src, dst):  # the first rename: the old site moves to .site.old-PID
    return named(dst, ".site.old-")


def swap_in(src, dst):  # the second rename: the staged site moves to site/
    return named(src, ".site.staging-")


def put_back(src, dst):  # the rollback: .site.old-PID moves back to site/
    return named(src, ".site.old-")


def delete_old(path, *args):  # the last step: the old site is deleted
    return named(path, ".site.old-") and Path(path).exists()


def no_training(*args, **kwargs):
    raise AssertionError("the build trained before refusing")


@pytest.fixture
def untrained(monkeypatch):
    """Any training fails the test: refusals must come first."""
    import embedder.model.word2vec

    monkeypatch.setattr(embedder.model.word2vec, "train_word_vectors", no_training)


def refused(capsys, argv):
    """Run the CLI; return its stderr after checking it failed in exactly one ``error:`` line."""
    code = main(argv, env={})
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


# --- places no build can write: refused before training, in one line ------------------------------------------------


def test_the_current_folder_is_refused_before_training(tmp_path, monkeypatch, capsys, untrained):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    err = refused(capsys, [*DEMO, "--out", "."])
    assert "--out . is the current folder" in err and "e.g. --out site" in err
    assert list(empty.iterdir()) == [] and names(tmp_path) == ["empty"]


def test_an_out_under_a_file_is_refused_before_training(tmp_path, capsys, untrained):
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("userId,movieId\n")
    err = refused(capsys, [*DEMO, "--out", str(ratings / "site")])
    assert f"--out {ratings / 'site'} is inside {ratings}, which is a file" in err
    assert names(tmp_path) == ["ratings.csv"]


def test_a_bad_logdir_is_refused_before_the_site_is_touched(tmp_path, capsys, untrained):
    out, notes = tmp_path / "site", tmp_path / "notes.txt"
    write_site(files("old"), out)
    notes.write_text("not a folder")
    err = refused(capsys, [*DEMO, "--out", str(out), "--tensorboard-logdir", str(notes / "tb")])
    assert f"--tensorboard-logdir {notes / 'tb'} is inside {notes}, which is a file" in err and "for --out" not in err
    assert content(out) == "old" and names(tmp_path) == ["notes.txt", "site"]  # the site's lock is gone too


def test_an_existing_file_as_logdir_names_the_logdir_option(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(BuildError, match=r"^--tensorboard-logdir .*notes.txt exists and is not a directory "
                                         r"\(choose another folder for --tensorboard-logdir\)$"):
        prepare_targets([(tmp_path / "site", "--out"), (notes, "--tensorboard-logdir")])
    assert names(tmp_path) == ["notes.txt"]


needs_proc = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no one can create folders")


@needs_proc
@pytest.mark.parametrize("out, expected", [
    ("/proc/reelspace-test/site", "cannot create --out /proc/reelspace-test/site: "),
    ("/proc/reelspace-site", "cannot write --out /proc/reelspace-site: /proc is not writable"),
])
def test_a_place_no_one_can_write_is_refused_before_training(capsys, untrained, out, expected):
    err = refused(capsys, [*DEMO, "--out", out])
    assert err.startswith(f"error: {expected}") and "choose a folder you can write to" in err


@needs_proc
def test_an_unwritable_logdir_is_refused_with_its_own_option(tmp_path):
    with pytest.raises(BuildError, match="^cannot create --tensorboard-logdir /proc/reelspace-test/tb: "):
        prepare_targets([(tmp_path / "site", "--out"), (Path("/proc/reelspace-test/tb"), "--tensorboard-logdir")])
    assert names(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_parent_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(BuildError, match="is not writable"):
            prepare_targets([(locked / "site", "--out")])
    finally:
        locked.chmod(0o700)


# --- inputs inside an output folder: refused, never deleted ----------------------------------------------------------


@pytest.mark.parametrize("flag", ["--ratings", "--movies", "--posters", "--projector-html"])
def test_an_out_that_holds_an_input_is_refused(tmp_path, capsys, flag):
    out = tmp_path / "site"
    write_site(files("old"), out)
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("1,10,4,1\n1,11,5,2\n2,10,3,3\n2,11,4,4\n")
    inputs = {"--ratings": out / "ratings.csv", "--movies": out / "movies.csv", "--posters": out / "posters",
              "--projector-html": out / "projector.html"}
    inside = inputs[flag]
    if flag == "--posters":
        inside.mkdir()
    else:
        inside.write_text(ratings.read_text() if flag == "--ratings" else "x\n")
    data = ["--ratings", str(inside if flag == "--ratings" else ratings)]
    if flag == "--movies":
        data += ["--movies", str(inside)]
    elif flag in ("--posters", "--projector-html"):
        data += [flag, str(inside)]
    err = refused(capsys, [*data, "--out", str(out), "--epochs", "1", "-q", "--layouts", "pca"])
    assert f"--out {out} holds {flag} {inside}, which a build would delete" in err
    assert inside.exists() and (out / MARKER).exists()


def test_a_logdir_that_holds_an_input_is_refused(tmp_path, capsys):
    posters = tmp_path / "tb" / "posters"
    posters.mkdir(parents=True)
    err = refused(capsys, [*DEMO, "--out", str(tmp_path / "site"), "--tensorboard-logdir", str(tmp_path / "tb"),
                           "--posters", str(posters)])
    assert f"--tensorboard-logdir {tmp_path / 'tb'} holds --posters {posters}" in err
    assert posters.is_dir()


# --- a symlinked output folder ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_build_through_a_symlink_updates_its_target_and_keeps_the_link(tmp_path, capsys):
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real)
    assert main([*DEMO, "--out", str(link)], env={}) == 0
    assert link.is_symlink() and (real / MARKER).is_file() and (real / "index.html").is_file()
    assert names(tmp_path) == ["link", "real"]


def test_a_dangling_link_is_followed_to_a_new_folder(tmp_path):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "made")
    write_site(files("new"), link)
    assert link.is_symlink() and content(tmp_path / "made") == "new" and names(tmp_path) == ["link", "made"]


# --- one build per folder at a time ------------------------------------------------------------------------------------


def hold_raw(lock_file, text="4242"):
    """Lock ``lock_file`` as another build would: a separate open file, so it conflicts even in this process."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, text.encode())
    return fd


def test_a_locked_folder_is_refused_and_free_again_once_released(tmp_path):
    out = tmp_path / "site"
    fd = hold_raw(tmp_path / ".site.lock")
    try:
        with pytest.raises(BuildError, match=rf"^another build \(process 4242\) is writing --out {out}: wait for it"):
            prepare_targets([(out, "--out")])
        with pytest.raises(BuildError, match="another build"):
            write_site(files("new"), out)
    finally:
        os.close(fd)
    assert not out.exists()
    write_site(files("new"), out)
    assert content(out) == "new" and names(tmp_path) == ["site"]  # the stale lock file is taken, then removed


@pytest.mark.parametrize("leaving", [RuntimeError, KeyboardInterrupt, BuildError])
def test_the_lock_is_held_for_the_block_and_released_on_any_exit(tmp_path, leaving):
    out = tmp_path / "site"
    with pytest.raises(leaving):
        with hold_targets([(out, "--out")]):
            with hold_targets([(out, "--out")]):  # the same process nests
                pass
            write_site(files("new"), out)  # and writes while holding it
            fd = os.open(tmp_path / ".site.lock", os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):  # anyone else is still kept out
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
            raise leaving("stop")
    assert names(tmp_path) == ["site"]
    os.close(hold_raw(tmp_path / ".site.lock"))  # free for the next build


CHILD = """
import sys
from embedder.output import hold_targets
with hold_targets([(sys.argv[1], "--out")]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_build_refuses_while_another_process_holds_the_folder(tmp_path, capsys, untrained):
    out = tmp_path / "site"
    other = subprocess.Popen([sys.executable, "-c", CHILD, str(out)], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert other.stdout.readline().strip() == "held"
        err = refused(capsys, [*DEMO, "--out", str(out)])
        assert err.startswith(f"error: another build (process {other.pid}) is writing --out {out}")
    finally:
        other.stdin.close()
        assert other.wait(timeout=120) == 0
    assert names(tmp_path) == []  # the holder removed its lock file on the way out


@pytest.mark.slow
def test_a_second_build_refuses_at_once_and_the_first_completes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "site"
    real = pipeline.sentence_vectors
    second = {}

    def train_while_another_build_starts(*args, **kwargs):
        second["run"] = subprocess.run([sys.executable, "build.py", *DEMO, "--out", str(out)], cwd=ROOT,
                                       capture_output=True, text=True, timeout=300)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "sentence_vectors", train_while_another_build_starts)
    assert main([*DEMO, "--out", str(out)], env={}) == 0
    run = second["run"]
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"error: another build (process {os.getpid()}) is writing --out {out}: wait for it")
    assert (out / MARKER).is_file() and (out / "index.html").is_file() and names(tmp_path) == ["site"]


# --- Ctrl-C in every window of the folder swap: the message is true, and the next build tidies up ----------------------

WINDOWS = {
    # window: (module, function, which call, interrupt after the call, what site/ holds, what the message says)
    "before the old site is moved aside": (os, "replace", aside, False, "old", "was not replaced; its previous contents are intact"),
    "after the old site is moved aside": (os, "replace", aside, True, "old", "was not replaced; its previous contents are intact"),
    "before the new site is moved in": (os, "replace", swap_in, False, "old", "was not replaced; its previous contents are intact"),
    "after the new site is moved in": (os, "replace", swap_in, True, "new", "holds the new build, complete (the next build "
                                                                            "removes the leftover .site.old-{pid})"),
    "while the old site is deleted": (shutil, "rmtree", delete_old, False, "new", "holds the new build, complete (the next "
                                                                               "build removes the leftover .site.old-{pid})"),
}


@pytest.mark.parametrize("window", WINDOWS)
def test_ctrl_c_in_each_window_of_the_swap(tmp_path, monkeypatch, window):
    module, name, when, after, holds, says = WINDOWS[window]
    out = tmp_path / "site"
    write_site(files("old"), out)
    prepare_targets([(out, "--out")])
    interrupt(monkeypatch, module, name, when, after=after)
    with pytest.raises(KeyboardInterrupt):
        write_site(files("new"), out)
    monkeypatch.undo()
    assert interrupted_message() == f"interrupted: --out {out} " + says.format(pid=os.getpid())
    assert content(out) == holds and (out / MARKER).is_file()
    assert not any(name.startswith(".site.staging-") for name in names(tmp_path))
    prepare_targets([(out, "--out")])  # the next build, before it trains
    assert names(tmp_path) == ["site"] and content(out) == holds


def test_ctrl_c_during_the_rollback_leaves_the_old_site_where_the_message_says_and_the_next_build_puts_it_back(
        tmp_path, monkeypatch):
    out = tmp_path / "site"
    write_site(files("old"), out)
    prepare_targets([(out, "--out")])
    interrupt(monkeypatch, os, "replace", aside, after=True)  # between the two renames ...
    interrupt(monkeypatch, os, "replace", put_back)  # ... and again while the old site is put back
    with pytest.raises(KeyboardInterrupt):
        write_site(files("new"), out)
    monkeypatch.undo()
    old = tmp_path / f".site.old-{os.getpid()}"
    assert interrupted_message() == (f"interrupted: --out {out} is missing: its previous contents are in {old}, which "
                                     f"the next build puts back (or rename it to site yourself)")
    assert not out.exists() and content(old) == "old"
    prepare_targets([(out, "--out")])
    assert names(tmp_path) == ["site"] and content(out) == "old"


def test_ctrl_c_while_writing_leaves_the_previous_site_and_a_staging_folder_the_next_build_removes(tmp_path, monkeypatch):
    out = tmp_path / "site"
    write_site(files("old"), out)
    prepare_targets([(out, "--out")])
    interrupt(monkeypatch, shutil, "rmtree", lambda path, *args: named(path, ".site.staging-") and Path(path).exists())

    def stop(root):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_site(files("new"), out, validate=stop)  # interrupted while staging, and again while removing it
    monkeypatch.undo()
    assert interrupted_message() == f"interrupted: --out {out} was not replaced; its previous contents are intact"
    assert names(tmp_path) == [f".site.staging-{os.getpid()}", "site"] and content(out) == "old"
    write_site(files("next"), out)
    assert names(tmp_path) == ["site"] and content(out) == "next"


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_a_killed_build_are_recovered_and_a_live_ones_left_alone(tmp_path):
    out = tmp_path / "site"
    write_site(files("old"), out)
    gone, alive = dead_pid(), os.getppid()
    out.rename(tmp_path / f".site.old-{gone}")  # killed between the two renames
    (tmp_path / f".site.staging-{gone}").mkdir()
    (tmp_path / f".site.staging-{alive}").mkdir()
    prepare_targets([(out, "--out")])
    assert content(out) == "old" and names(tmp_path) == [f".site.staging-{alive}", "site"]


def test_ctrl_c_while_the_logdir_is_written_says_the_site_was_replaced(tmp_path):
    out, logdir = tmp_path / "site", tmp_path / "tb"
    write_site(files("old"), out)
    write_site(files("old tb"), logdir)
    prepare_targets([(out, "--out"), (logdir, "--tensorboard-logdir")])
    write_site(files("new"), out)

    def stop(root):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_site(files("new tb"), logdir, validate=stop)
    assert interrupted_message() == (f"interrupted: --out {out} holds the new build, complete; --tensorboard-logdir "
                                     f"{logdir} was not replaced; its previous contents are intact")
    assert content(out) == "new" and content(logdir) == "old tb" and names(tmp_path) == ["site", "tb"]


def test_a_failed_second_write_says_exactly_what_was_replaced(tmp_path, monkeypatch):
    out, logdir = tmp_path / "site", tmp_path / "tb"
    write_site(files("old"), out)
    write_site(files("old tb"), logdir)
    prepare_targets([(out, "--out"), (logdir, "--tensorboard-logdir")])
    write_site(files("new"), out)
    real = os.replace

    def disk_full(src, dst):
        if named(src, ".tb.staging-"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(BuildError) as failed:
        write_site(files("new tb"), logdir)
    monkeypatch.undo()
    assert str(failed.value) == (f"could not write --tensorboard-logdir {logdir}: No space left on device: {logdir}; "
                                 f"--out {out} holds the new build, complete; --tensorboard-logdir {logdir} was not "
                                 f"replaced; its previous contents are intact")
    assert content(out) == "new" and content(logdir) == "old tb" and names(tmp_path) == ["site", "tb"]


def test_the_message_claims_nothing_it_does_not_know(tmp_path):
    interrupted_message()  # forget any earlier build of this process
    assert interrupted_message() == "interrupted"
    with hold_targets([(tmp_path / "site", "--out")]):  # from the moment the build holds its folders
        assert interrupted_message() == f"interrupted: --out {tmp_path / 'site'} was not written"


@pytest.mark.slow
def test_ctrl_c_through_the_command_line_prints_a_true_line(tmp_path, monkeypatch, capsys):
    out = tmp_path / "site"
    assert main([*DEMO, "--out", str(out)], env={}) == 0
    before = tree(out)
    capsys.readouterr()

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "sentence_vectors", stop)  # while training
    assert main([*DEMO, "--out", str(out)], env={}) == 130
    assert capsys.readouterr().err == f"interrupted: --out {out} was not replaced; its previous contents are intact\n"
    assert tree(out) == before and names(tmp_path) == ["site"]
    monkeypatch.undo()

    interrupt(monkeypatch, os, "replace", swap_in, after=True)  # just after the new site is moved in
    assert main([*DEMO, "--out", str(out)], env={}) == 130
    old = f".site.old-{os.getpid()}"
    assert capsys.readouterr().err == (f"interrupted: --out {out} holds the new build, complete (the next build "
                                       f"removes the leftover {old})\n")
    assert tree(tmp_path / old) == before and (out / MARKER).is_file()
    monkeypatch.undo()
    prepare_targets([(out, "--out")])
    assert names(tmp_path) == ["site"]
