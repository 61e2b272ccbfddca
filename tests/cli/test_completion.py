"""``toon completion bash|zsh|fish`` (issue 14 part 3): the real shells where
installed (bash, fish; zsh only loads the script: its completion widgets need
a terminal), click's protocol for each, and what completing imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.cli.conftest import run_toon
from toon_tools.cli._completion import complete_commands, toon_paths
from toon_tools.cli.main import COMMANDS

BIN = str(Path(sys.executable).parent)
ENV = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}

needs_toon_on_path = pytest.mark.skipif(not (Path(BIN) / "toon").exists(),
                                        reason="no toon console script beside python")


def shell(*argv: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, cwd=cwd, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", ["bash", "zsh", "fish"])
def test_prints_click_script_for_toon(name: str) -> None:
    result = run_toon("completion", name)
    assert result.code == 0, result.err
    assert "_TOON_COMPLETE" in result.out
    assert f"{name}_complete" in result.out


def test_unknown_shell_is_a_usage_error() -> None:
    result = run_toon("completion", "tcsh")
    assert result.code == 2


def bash_complete(line: str, cwd: Path | None = None) -> list[str]:
    words = line.split(" ")
    script = ('source <(toon completion bash)\n'
              f'COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n'
              '_toon_completion toon\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    return [w for w in shell("bash", "-c", script, cwd=cwd).splitlines() if w]


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_commands_and_options() -> None:
    assert bash_complete("toon ch") == ["check", "checkpoint"]
    assert bash_complete("toon check --f") == ["--format", "--force-exclude"]
    assert "--watch" in bash_complete("toon twins --")
    assert bash_complete("toon completion ") == ["bash", "zsh", "fish"]


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_names_with_spaces_as_one_word(tmp_path: Path) -> None:
    # bash inserts COMPREPLY as it is (click's script sets no -o filenames):
    # a space must come escaped, or `toon check my data/a b.toon` is three words.
    (tmp_path / "my data").mkdir()
    (tmp_path / "my data" / "a b'c.toon").write_text("a: 1\n")
    (tmp_path / "my data" / "é.toon").write_text("a: 1\n")
    assert bash_complete("toon check my", cwd=tmp_path) == [
        "my\\ data/a\\ b\\'c.toon", "my\\ data/é.toon"]
    # what the user typed escaped (one word for bash) completes on
    script = ("source <(toon completion bash)\n"
              "COMP_WORDS=(toon check 'my\\ data/a'); COMP_CWORD=2\n"
              '_toon_completion toon\nprintf "%s\\n" "${COMPREPLY[@]}"\n')
    assert shell("bash", "-c", script, cwd=tmp_path).splitlines() == ["my\\ data/a\\ b\\'c.toon"]


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_fish_completes_commands_and_options() -> None:
    out = shell("fish", "-c", 'toon completion fish | source; complete -C "toon ch"')
    assert [line.split("\t")[0] for line in out.splitlines()] == ["check", "checkpoint"]
    out = shell("fish", "-c", 'toon completion fish | source; complete -C "toon check --wa"')
    assert [line.split("\t")[0] for line in out.splitlines()] == ["--watch"]


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("fish") is None, reason="fish not installed")
def test_fish_completes_names_with_commas_whole(tmp_path: Path) -> None:
    # click's fish script splits "type,value" at every comma: 'a,b/x.toon' came
    # back as 'a' (and 'bad, file.toon' as 'bad').
    (tmp_path / "a,b").mkdir()
    (tmp_path / "a,b" / "x, y.toon").write_text("a: 1\n")
    out = shell("fish", "-c", 'toon completion fish | source; complete -C "toon check a"',
                cwd=tmp_path)
    assert out.splitlines() == ["a,b/x, y.toon"]


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_loads_the_script() -> None:
    out = shell("zsh", "-c", "autoload -U compinit && compinit -u\n"
                "source <(toon completion zsh) && whence -w _toon_completion")
    assert out.strip() == "_toon_completion: function"


#: Type a line and TAB in a real interactive zsh (zpty gives it a terminal), then
#: a key whose widget writes the edited line to a file: what the user would see.
_ZSH_TYPE = r"""
zmodload zsh/zpty || exit 3
out=$1
zpty -b z zsh -f -i
zpty -w z 'autoload -U compinit && compinit -u; source <(toon completion zsh)'
zpty -w z "dump() { print -r -- \"\$BUFFER\" > ${(q)out} }; zle -N dump; bindkey '^X' dump"
zpty -w -n z "$2"$'\t\x18'
for i in {1..300}; do [[ -s $out ]] && break; sleep 0.1; done
zpty -d z
"""


def zsh_type(line: str, cwd: Path, home: Path) -> str:
    out = cwd / "zsh-buffer.txt"
    proc = subprocess.run(["zsh", "-f", "-c", _ZSH_TYPE, "zsh", str(out), line], cwd=cwd,
                          env={**ENV, "HOME": str(home)}, capture_output=True, timeout=60)
    if proc.returncode == 3:
        pytest.skip("zsh has no zpty module")
    return out.read_text().rstrip("\n")


@needs_toon_on_path
@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh not installed")
def test_zsh_completes_a_path_from_home_that_the_shell_still_expands(tmp_path: Path) -> None:
    # zsh quotes what compadd inserts: '~/pr' became '\~/proj/a.toon', a literal '~'
    # folder that does not exist when the command runs.
    (tmp_path / "home" / "proj").mkdir(parents=True)
    (tmp_path / "home" / "proj" / "a b.toon").write_text("a: 1\n")
    line = zsh_type("toon check ~/pr", tmp_path, tmp_path / "home")
    assert line.startswith("toon check ") and "\\~" not in line
    path = shell("zsh", "-f", "-c", f"print -r -- {line[len('toon check '):]}").strip()
    assert path == str(tmp_path / "home" / "proj" / "a b.toon")


def protocol(shell_name: str, words: str, cword: str) -> tuple[str, list[str]]:
    """Complete through click's protocol in-process; (output, the command
    modules imported by then)."""
    program = (
        "import json, sys\n"
        "from toon_tools.cli.main import main\n"
        "try:\n    main([])\n"
        "except SystemExit:\n    pass\n"
        "mods = sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "              if m.startswith('toon_tools.cli.commands.'))\n"
        "print(json.dumps(mods), file=sys.stderr)\n")
    env = {**ENV, "_TOON_COMPLETE": f"{shell_name}_complete", "COMP_WORDS": words,
           "COMP_CWORD": cword}
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def equals_protocol(shell_name: str, words: str, cword: str, cwd: Path) -> list[str]:
    """Complete through click's protocol with the classes of
    ``_completion.equals_aware_shells`` registered (main.py does it when
    _TOON_COMPLETE is set): the values offered."""
    program = ("from toon_tools.cli._completion import equals_aware_shells\n"
               "equals_aware_shells()\n"
               "from toon_tools.cli.main import main\n"
               "main([])\n")
    env = {**ENV, "_TOON_COMPLETE": f"{shell_name}_complete", "COMP_WORDS": words,
           "COMP_CWORD": cword}
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, timeout=60, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    if shell_name == "zsh":  # type, value, help: three lines each
        return proc.stdout.splitlines()[1::3]
    return [line.split(",", 1)[1].split("\t")[0] for line in proc.stdout.splitlines()]


def test_an_option_value_after_equals_completes_as_the_value(tmp_path: Path) -> None:
    """`toon check --format=g<TAB>` (click #2847): bash splits the word at '=' and
    click took 'g' for a file name ('--format=good.toon'); zsh replaced the whole
    word with the bare value ('toon check github'); fish offered nothing."""
    (tmp_path / "good.toon").write_text("a: 1\n")
    assert equals_protocol("bash", "toon check --format = g", "4", tmp_path) == ["github"]
    assert equals_protocol("bash", "toon check --format =", "3", tmp_path) == [
        "text", "json", "github", "sarif"]
    assert equals_protocol("zsh", "toon check --format=g", "2", tmp_path) == ["--format=github"]
    assert equals_protocol("fish", "toon check --format=g", "--format=g", tmp_path) == [
        "--format=github"]
    # the other forms are as click makes them
    assert equals_protocol("bash", "toon check --format g", "3", tmp_path) == ["github"]
    assert equals_protocol("zsh", "toon check --format g", "3", tmp_path) == ["github"]
    assert equals_protocol("bash", "toon check g", "2", tmp_path) == ["good.toon"]


def test_zsh_protocol_gives_names_with_help() -> None:
    out, _ = protocol("zsh", "toon ch", "1")
    lines = out.splitlines()
    assert lines[0:2] == ["plain", "check"] and lines[3:5] == ["plain", "checkpoint"]
    # click shortens the help to 45 characters
    assert COMMANDS["checkpoint"][1].startswith(lines[5].rstrip("."))


def test_completing_an_option_imports_only_that_command() -> None:
    out, imported = protocol("fish", "toon check --f", "--f")
    assert "--format" in out and "--force-exclude" in out
    assert imported == ["check"]


def test_completing_a_command_name_imports_at_most_the_matches() -> None:
    out, imported = protocol("bash", "toon ch", "1")
    assert out.splitlines() == ["plain,check", "plain,checkpoint"]
    assert set(imported) <= {"check", "checkpoint"}


def test_complete_commands_uses_the_table() -> None:
    ctx = click.Context(click.Command("toon"))
    items = complete_commands(COMMANDS, ctx, "c")
    assert [i.value for i in items] == ["cache", "check", "checkpoint", "completion",
                                        "config", "convert"]
    assert items[1].help == COMMANDS["check"][1]


def test_toon_paths_offers_toon_files_and_folders(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "data" / "deep").mkdir(parents=True)
    (tmp_path / "data" / "a.toon").write_text("a: 1\n")
    (tmp_path / "data" / "notes.txt").write_text("")
    (tmp_path / "data" / ".hidden.toon").write_text("")
    (tmp_path / "only" / "one").mkdir(parents=True)
    (tmp_path / "only" / "one" / "x.toon").write_text("")
    (tmp_path / "top.toon").write_text("")
    monkeypatch.chdir(tmp_path)
    complete = toon_paths()
    ctx = click.Context(click.Command("check"))
    param = click.Argument(["files"])

    def values(incomplete: str) -> list[str]:
        return [i.value for i in complete(ctx, param, incomplete)]

    assert values("") == ["data/", "only/", "top.toon"]
    assert values("d") == ["data/a.toon", "data/deep/"]  # the one folder is entered
    assert values("data/.") == ["data/.hidden.toon"]
    assert values("o") == ["only/one/x.toon"]  # single folders are entered
    assert values("nothing") == []


def test_tokens_paths_complete_as_any_file(tmp_path: Path) -> None:
    # tokens counts any text file: the shell's own file completion, not nothing.
    r = run_toon(cwd=tmp_path, env={"_TOON_COMPLETE": "bash_complete",
                                    "COMP_WORDS": "toon tokens da", "COMP_CWORD": "2"})
    assert r.code == 0 and r.out.splitlines() == ["file,da"], r
