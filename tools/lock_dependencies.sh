#!/usr/bin/env bash
# `make lock`: regenerates requirements/lock.txt (every release scomm and all its extras need,
# pinned ==, with the sha256 of each of its files on PyPI) and requirements/build.txt (the
# installer and build tools, installed first) from pyproject.toml and requirements/build.in.
# Usage: tools/lock_dependencies.sh UV [--upgrade]
#   UV         the uv to resolve with (make passes the one the lock itself pins: .venv/bin/uv)
#   --upgrade  move every pin to the newest release allowed (without it, the pins in the lock
#              are kept and only what pyproject.toml's changes need moves)
# The target is the machine `make` installs on, and CI: CPython 3.11 on x86_64 Linux with glibc
# 2.34 or newer (nbis-py's wheels need 2.34). The lock always comes from PyPI, uv's default
# index: uv reads no pip.conf, and its own configuration and index variables are set aside here.
set -euo pipefail
cd "$(dirname "$0")/.."
uv="$1"
shift
for var in UV_INDEX UV_INDEX_URL UV_DEFAULT_INDEX UV_EXTRA_INDEX_URL UV_FIND_LINKS \
	UV_CONSTRAINT UV_OVERRIDE UV_EXCLUDE_NEWER UV_PRERELEASE UV_RESOLUTION; do
	unset "$var"
done
compile=("$uv" --no-config pip compile --quiet --generate-hashes
	--python-version 3.11 --python-platform x86_64-manylinux_2_34
	--custom-compile-command "make lock" "$@")
# Each file is written aside (from a copy, so that uv keeps its pins) and replaces the committed
# one only where it differs: an unchanged lock keeps its time stamp, and make does not reinstall.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
relock() { # FILE, then uv's inputs and options
	local file="$1"
	shift
	cp "$file" "$work/out.txt" 2>/dev/null || true
	"${compile[@]}" "$@" --output-file "$work/out.txt"
	if cmp -s "$work/out.txt" "$file"; then
		echo "$file: unchanged"
	else
		mv "$work/out.txt" "$file"
		echo "$file: written"
	fi
}
relock requirements/lock.txt pyproject.toml requirements/build.in --all-extras
# The same releases of pip, setuptools and wheel as in the lock, on their own.
relock requirements/build.txt requirements/build.in --constraint requirements/lock.txt
