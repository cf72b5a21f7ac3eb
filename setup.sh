#!/usr/bin/env bash
# Installs SynthGen and what it needs on a fresh Debian/Ubuntu machine (CPU is enough, Python >= 3.10).
# Only package registries are used: apt for ffmpeg (MUSDB18 .stem.mp4 files need it), PyPI for the rest.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "setup.sh: ffmpeg not installed; only MUSDB18 .stem.mp4 files need it (install it with your package manager)" >&2
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
