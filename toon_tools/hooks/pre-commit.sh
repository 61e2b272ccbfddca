#!/bin/sh
# toon-tools: pre-commit hook (written by `toon hooks install`; safe to delete)
# Checks, formats and mirrors the staged .toon files, from the index: unstaged
# edits are never touched. Needs the `toon` command of toon-tools on PATH.
if ! command -v toon >/dev/null 2>&1; then
    echo "toon-tools pre-commit hook: the 'toon' command is not on PATH. Activate the" >&2
    echo "virtualenv where toon-tools is installed, or install it from its repository" >&2
    echo "(pip install /path/to/toon-tools); then commit again." >&2
    exit 2
fi
exec toon hooks run
