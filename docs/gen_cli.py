"""Write docs/reference/cli.md, the command-line reference, from the parsers themselves.

    python docs/gen_cli.py            # regenerate docs/reference/cli.md
    python docs/gen_cli.py --check    # exit status 1 when the file is not what the parsers say

Nothing about the options is written down here: every command, option group,
option, metavar, default and help text is read from the argparse parsers, so
the page follows the code.  Only ``commands()`` (and ``known_defaults()``)
know where the parsers live; adjust them when a command is added or moved.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "reference" / "cli.md"

if str(ROOT) not in sys.path:  # run as `python docs/gen_cli.py` from anywhere
    sys.path.insert(0, str(ROOT))


# --- where the parsers are: the one place to adjust ---------------------------------------------


def commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command of ``python build.py`` as ``(command line, parser)``, in the order of the page.

    Subcommands (``publish gh-pages``, ``publish gist``) are found by
    ``expand()``; they need no entry here.
    """
    from embedder.cli import build_parser
    from embedder.cli.evaluate import evaluate_parser
    from embedder.cli.synthetic import parser as synthetic_parser
    from embedder.publish import build_parser as publish_parser
    from embedder.site.validate import main as validate_main

    validate = captured_parser(validate_main, [])
    validate.prog = "build.py validate"  # the parser names its module; users reach it as a subcommand
    return [
        ("python build.py", build_parser()),
        ("python build.py evaluate", evaluate_parser()),
        ("python build.py synthetic", synthetic_parser()),
        ("python build.py publish", publish_parser()),
        ("python build.py validate", validate),
    ]


def known_defaults() -> dict:
    """Defaults by option ``dest`` for parsers whose options default to ``argparse.SUPPRESS``.

    A parser that records only what was typed keeps its real defaults
    elsewhere; where a settings table exists, it is read here.
    """
    try:
        from embedder.settings import defaults
    except ImportError:
        return {}
    return dict(defaults())


# --- reading parsers ----------------------------------------------------------------------------


class _Captured(Exception):
    pass


def captured_parser(main, *args) -> argparse.ArgumentParser:
    """The parser a ``main(*args)`` builds, caught when it parses (for commands with no parser function)."""
    original = argparse.ArgumentParser.parse_args

    def grab(self, *a, **k):
        raise _Captured(self)

    argparse.ArgumentParser.parse_args = grab
    try:
        main(*args)
    except _Captured as caught:
        return caught.args[0]
    finally:
        argparse.ArgumentParser.parse_args = original
    raise RuntimeError(f"{main.__module__}.{main.__name__} returned without parsing its arguments")


def expand(name: str, parser: argparse.ArgumentParser):
    """``(name, parser)`` and then every subcommand's, depth first."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice, sub in action.choices.items():
                yield from expand(f"{name} {choice}", sub)


def all_parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand with its parser."""
    return [pair for name, parser in commands() for pair in expand(name, parser)]


def visible(action: argparse.Action) -> bool:
    return action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)


def help_texts(parser: argparse.ArgumentParser) -> list[str]:
    """Everything ``--help`` prints in words: description, epilog, group titles and every option's help."""
    texts = [parser.description or "", parser.epilog or ""]
    for group in parser._action_groups:
        texts += [group.title or "", group.description or ""]
    texts += [_help(parser, action) for action in parser._actions if visible(action)]
    if any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        texts += [choice.help or "" for a in parser._actions if isinstance(a, argparse._SubParsersAction)
                  for choice in a._choices_actions]
    return texts


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    text = action.help or ""
    if "%" in text:  # argparse's own %(default)s, %(prog)s ... expansion
        text = parser._get_formatter()._expand_help(action)
    return " ".join(text.split())


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.metavar is not None:
        name = action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    elif action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        name = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        name = action.dest.upper() if action.option_strings else action.dest
    if action.nargs == "?":
        return f"[{name}]"
    if action.nargs == "*":
        return f"[{name} ...]"
    if action.nargs == "+":
        return f"{name} [{name} ...]"
    if isinstance(action.nargs, int) and action.nargs > 1:
        return " ".join([name] * action.nargs)
    return name


def _default(action: argparse.Action, defaults: dict) -> str:
    value = action.default
    if value is argparse.SUPPRESS:
        value = defaults.get(action.dest)
    if action.nargs == 0 or value is None or value == () or value == [] or isinstance(action, argparse._VersionAction):
        return ""
    return f"`{value}`"


# --- writing markdown ---------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "<": "&lt;", ">": "&gt;", "&": "&amp;",
                          "[": "\\[", "]": "\\]", "#": "\\#"})


def _text(text: str) -> str:
    """Help text as table-cell markdown: `code` spans kept, everything else escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code spans
        return text.translate(_ESCAPES)
    return "`".join(part if i % 2 else part.translate(_ESCAPES) for i, part in enumerate(parts))


def _block(text: str) -> list[str]:
    return ["```text", *text.strip("\n").splitlines(), "```", ""] if text and text.strip() else []


def _synopsis(name: str, parser: argparse.ArgumentParser) -> str:
    words = [name]
    words += [_metavar(a) for a in parser._actions if not a.option_strings and visible(a)]
    if any(a.option_strings and visible(a) for a in parser._actions):
        words.append("[options]")
    return " ".join(words)


def _signature(action: argparse.Action) -> tuple:
    return tuple(action.option_strings), action.help, repr(action.default), repr(action.choices), action.metavar


def _group_section(name: str, parser: argparse.ArgumentParser, group, seen: dict, defaults: dict) -> list[str]:
    actions = [a for a in group._group_actions if visible(a)]
    if not actions:
        return []
    title = group.title or "options"
    lines = [f"### {title}", ""]
    if group.description:
        lines += [_text(" ".join(group.description.split())), ""]
    signatures = tuple(_signature(a) for a in actions)
    if signatures in seen:  # the same options as a command above: name them, do not repeat them
        options = ", ".join(f"`{s}`" for a in actions for s in a.option_strings) or ", ".join(
            f"`{_metavar(a)}`" for a in actions)
        return lines + [f"The same as under `{seen[signatures]}`: {options}.", ""]
    seen[signatures] = name
    lines += ["| option | value | default | what it does |", "|---|---|---|---|"]
    for action in actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                lines.append(f"| `{choice.dest}` |  |  | {_text(_help(parser, choice))} (see `{name} {choice.dest}`) |")
            continue
        names = ", ".join(f"`{s}`" for s in action.option_strings) or f"`{_metavar(action)}`"
        value = f"`{_metavar(action)}`" if action.option_strings and _metavar(action) else ""
        lines.append(f"| {names} | {value} | {_default(action, defaults)} | {_text(_help(parser, action))} |")
    lines.append("")
    for exclusive in parser._mutually_exclusive_groups:
        members = [a for a in exclusive._group_actions if a in actions and a.option_strings]
        if len(members) > 1:
            lines += [" and ".join(f"`{a.option_strings[-1]}`" for a in members) + " exclude each other.", ""]
    return lines


def render() -> str:
    """The whole reference page."""
    defaults = known_defaults()
    parsers = all_parsers()
    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated by `python docs/gen_cli.py` from the argparse parsers: do not edit by hand. -->",
        "",
        "This page is written from the command line's own parsers by `python docs/gen_cli.py`, so it always "
        "matches `--help`. Every command takes `-h` / `--help`. After `pip install .` the `reelspace` command "
        "takes the same arguments as `python build.py`.",
        "",
        "Commands: " + ", ".join(f"`{name}`" for name, _ in parsers) + ".",
        "",
    ]
    seen: dict = {}
    for name, parser in parsers:
        lines += [f"## `{name}`", "", "```text", _synopsis(name, parser), "```", ""]
        lines += _block(parser.description or "")
        for group in parser._action_groups:
            lines += _group_section(name, parser, group, seen, defaults)
        if parser.epilog:
            lines += ["### examples and notes", ""] + _block(parser.epilog)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python docs/gen_cli.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help=f"exit 1 if {TARGET.relative_to(ROOT)} is stale; write nothing")
    args = parser.parse_args(argv)
    text = render()
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
    if args.check:
        if current == text:
            print(f"{TARGET.relative_to(ROOT)} is up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), "on disk", "from the parsers", lineterm="", n=1)
        print("\n".join(list(diff)[:40]))
        print(f"{TARGET.relative_to(ROOT)} is stale: run python docs/gen_cli.py", file=sys.stderr)
        return 1
    if current != text:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text, encoding="utf-8")
        print(f"wrote {TARGET.relative_to(ROOT)}")
    else:
        print(f"{TARGET.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
