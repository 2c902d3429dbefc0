"""The settings schema, the command line made from it, --config files, and make_config's checks."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from embedder.cli import build_parser
from embedder.cli.evaluate import evaluate_parser
from embedder.config import BuildConfig, config_from_args, make_config
from embedder.errors import ConfigError
from embedder.model.recommend import ScoringParams
from embedder.model.sequences import SequenceParams
from embedder.model.word2vec import Word2VecParams
from embedder.ratings.datasets import KNOWN
from embedder.settings import BY_NAME, GROUPS, SETTINGS, as_tables, defaults, given, read_file, resolve


def parse(argv, tmp_path=None):
    return config_from_args(build_parser().parse_args(argv), {}, KNOWN)


def test_every_setting_is_an_option_of_the_build_once_with_its_help():
    parser = build_parser()
    options = {opt: action for action in parser._actions for opt in action.option_strings}
    for s in SETTINGS:
        assert s.option in options, s.name
        assert options[s.option].dest == s.name and options[s.option].help
        assert s.group in dict(GROUPS)
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_defaults_come_from_the_stages_own_parameters():
    w2v, seq, rec = Word2VecParams(), SequenceParams(), ScoringParams()
    d = defaults()
    assert (d["vector_size"], d["window"], d["epochs"], d["seed"], d["workers"]) == (
        w2v.vector_size, w2v.window, w2v.epochs, w2v.seed, w2v.workers)
    assert (d["min_count"], d["min_length"], d["orientation"]) == (seq.min_count, seq.min_length, seq.orientation)
    assert (d["rec_scoring"], d["rec_decay"], d["rec_prior"]) == (rec.method, rec.decay, rec.prior)


def test_a_mapping_makes_the_same_config_as_the_command_line():
    from_cli = parse(["--dataset", "demo", "--vector-size", "16", "--no-tensorboard", "--seed", "3"])
    from_mapping = make_config({"dataset": "demo", "vector_size": 16, "tensorboard": False, "seed": 3}, {}, KNOWN)
    assert from_cli == from_mapping
    assert from_cli.word2vec.vector_size == 16 and not from_cli.site.tensorboard
    assert from_cli.run.seed == 3 and from_cli.word2vec.seed == 3  # the run-wide seed reaches Word2Vec


def test_only_typed_options_are_given():
    args = build_parser().parse_args(["--window", "5", "-q"])
    assert given(args) == {"window": 5, "quiet": True}


def test_run_settings_are_one_group():
    config = parse(["--dataset", "demo", "--deterministic", "--workers", "4"])
    assert config.run.deterministic and config.run.workers == 1 and config.word2vec.workers == 1
    assert {s.name for s in SETTINGS if s.group == "run"} == {"seed", "workers", "deterministic", "quiet"}


def test_every_problem_is_reported_at_once_in_the_options_own_words():
    with pytest.raises(ConfigError) as caught:
        make_config({"vector_size": 1, "sample": 1.0, "alpha": 0, "rec_decay": 2, "max_points": 1,
                     "neighbour_search": "fast", "dataset": "demo"}, {}, KNOWN)
    text = str(caught.value)
    for part in ("--vector-size must be between 2 and 4096, got 1", "--sample must be in [0, 1), got 1",
                 "--alpha must be in (0, 1), got 0", "--rec-decay must be in (0, 1], got 2",
                 "--max-points must be at least 2, got 1", "--neighbour-search must be one of auto, exact, hnsw"):
        assert part in text
    assert "\n" not in text


@pytest.mark.parametrize("value, problem", [
    ("x", "--epochs must be a whole number, got 'x'"),
    (2.5, "--epochs must be a whole number, got 2.5"),
    (True, "--epochs must be a whole number, got True"),
])
def test_types_are_checked(value, problem):
    problems = []
    resolve({"epochs": value}, problems=problems)
    assert problems == [problem]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_toml_file_sets_settings_and_typed_options_win(tmp_path):
    toml = write(tmp_path / "build.toml", """
[data]
dataset = "demo"
log_order = "none"

[word2vec]
vector_size = 24
window = 7

[site]
out = "elsewhere"
layouts = "pca"

[run]
seed = 5
""")
    config = parse(["--config", str(toml), "--window", "9"])
    assert config.data.dataset == "demo" and config.data.log_order == "none"
    assert (config.word2vec.vector_size, config.word2vec.window) == (24, 9)  # the command line overrides the file
    assert config.site.out_dir == Path("elsewhere") and config.site.layouts == ("pca",)
    assert config.run.seed == 5


def test_a_bad_file_is_one_line_naming_the_file_and_the_fix(tmp_path):
    toml = write(tmp_path / "bad.toml", "[word2vec]\nvector_sise = 24\nseed = 1\n\n[sites]\nout = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        read_file(toml)
    text = str(caught.value)
    assert text.startswith(f"--config {toml}: ")
    assert "[word2vec] has no setting 'vector_sise' (did you mean 'vector_size'?)" in text
    assert "[word2vec] has no setting 'seed' (it belongs in [run])" in text
    assert "unknown table [sites] (did you mean 'site'?)" in text
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_file(write(tmp_path / "broken.toml", "[data\n"))
    with pytest.raises(ConfigError, match="cannot be read"):
        read_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="--epochs must be a whole number"):
        parse(["--config", str(write(tmp_path / "typed.toml", "[word2vec]\nepochs = 'ten'\n")), "--dataset", "demo"])


def test_settings_written_as_tables_read_back_to_the_same_config(tmp_path):
    config = parse(["--dataset", "demo", "--vector-size", "16", "--movie-pages", "--layouts", "pca,tsne"])
    tables = as_tables(config.settings)
    assert tables["word2vec"]["vector_size"] == 16 and "seed" in tables["run"]
    build_json = write(tmp_path / "build.json", json.dumps({"settings": tables}))
    again = config_from_args(build_parser().parse_args(["--config", str(build_json)]), {}, KNOWN)
    assert again == config
    with pytest.raises(ConfigError, match="build.json, with a \"settings\" object"):
        read_file(write(tmp_path / "other.json", "[1, 2]"))


def test_the_evaluate_command_takes_the_model_settings_but_not_the_site():
    options = {opt for action in evaluate_parser()._actions for opt in action.option_strings}
    assert {"--vector-size", "--log-order", "--rec-scoring", "--seed", "--config", "--repeats"} <= options
    assert not options & {"--out", "--base-url", "--embedders", "--evaluate", "--movie-pages"}


def test_the_build_config_has_a_run_group_and_no_loose_run_flags():
    names = {f.name for f in fields(BuildConfig)}
    assert "run" in names and not names & {"seed", "workers", "deterministic", "progress"}
    assert BY_NAME["quiet"].short == "-q"
