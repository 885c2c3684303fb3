#!/usr/bin/env bash
# Create or reuse .venv and install what is missing: Debian packages first (with apt-get when
# root, otherwise printing the exact command), then the Python packages pinned in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
    libportaudio2                                            # sounddevice's PortAudio
    libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0  # Qt, also offscreen
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
    libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1        # Qt's X11 window plugin
    xvfb xauth                                               # a virtual screen for screenshots
    espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts  # speech synthesis
    wamerican                                                # words for the _unknown_ class
    pulseaudio pulseaudio-utils libasound2-plugins           # the virtual microphone of the tests
)

missing=()
for package in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "VoxGate needs these Debian packages; install them, then run this again:"
        echo "  sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
fi

python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=.venv/.voxgate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    echo "installing Python packages into .venv (pinned by constraints.txt)"
    .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[test]"
    touch "$stamp"
fi
