#!/usr/bin/env bash
# Installs SynthGen and what it needs on a fresh Debian/Ubuntu machine (CPU is enough, Python >= 3.10).
# Only package registries are used: apt for ffmpeg (MUSDB18 .stem.mp4 files need it), Chromium (the
# browser test of `synthgen ui`), FluidSynth with MuseScore's General SoundFont (SynthStems' sampled bands) and
# TimGM6mb (`synthgen data resound`, kept out of training), PyPI for the rest.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
command -v chromium >/dev/null || missing+=(chromium)
[ -n "$(ldconfig -p 2>/dev/null | grep libfluidsynth.so.3)" ] || missing+=(libfluidsynth3)
[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || missing+=(timgm6mb-soundfont)
[ -f /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 ] || missing+=(musescore-general-soundfont-small)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if command -v apt-get >/dev/null && { [ -z "$sudo" ] || command -v sudo >/dev/null; }; then
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "setup.sh: please install ${missing[*]} with your package manager (ffmpeg: MUSDB18 .stem.mp4 files; chromium: the UI's browser test; libfluidsynth3, musescore-general-soundfont-small, timgm6mb-soundfont: data synth and data resound)" >&2
  fi
fi

python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"
