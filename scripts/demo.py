"""`make demo`: one lipsync job end to end through the `vozo` command against a local FakeVozo.

Starts `vozo mock-server` on a free port, runs `vozo lipsync ... --wait --output talking.mp4`, checks that the download
is a playable MP4 (ffprobe when installed, else a container-header check), stops the server and leaves talking.mp4 in
the working folder to play.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from vozo.testing._media import is_playable_mp4

# The `vozo` command of this checkout (`make demo` puts it on PYTHONPATH; nothing needs installing).
VOZO = [sys.executable, "-m", "vozo"]
KEY = "demo-key"
# Kept after the demo (gitignored), in the folder `make demo` runs from.
OUTPUT = Path("talking.mp4").resolve()
PLAYER = {"darwin": "open", "win32": "start"}.get(sys.platform, "xdg-open")


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [*VOZO, "mock-server", "--port", "0", "--step", "1.5", "--key", KEY],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert server.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return server, match.group(1)
        if server.poll() is not None:
            break
    server.kill()
    sys.exit("demo: the mock server did not start")


def playable(path: Path) -> str:
    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0 or "video" not in probe.stdout:
            sys.exit(f"demo: ffprobe cannot read {path}: {probe.stderr.strip()}")
        return "ffprobe: " + ", ".join(line.strip() for line in probe.stdout.splitlines())
    if not is_playable_mp4(path.read_bytes()):
        sys.exit(f"demo: {path} is not a complete MP4 container")
    return "MP4 container check: ftyp, moov and mdat boxes complete"


def main() -> None:
    server, url = start_server()
    print(f"demo: FakeVozo (a local stand-in for the Vozo API) at {url}")
    try:
        command = [
            "lipsync",
            "--reference", "https://media.example.com/presenter.mp4",
            "--audio", "https://media.example.com/voiceover.mp3",
            "--model", "precision", "--wait", "--output", OUTPUT.name,
        ]  # fmt: skip
        print("demo: $ vozo " + " ".join(command))
        env = {**os.environ, "VOZO_API_KEY": KEY, "VOZO_BASE_URL": url}
        result = subprocess.run([*VOZO, *command], env=env, cwd=OUTPUT.parent, check=False)
        if result.returncode != 0:
            sys.exit(f"demo: vozo lipsync exited with {result.returncode}")
        print(f"demo: {OUTPUT}: {OUTPUT.stat().st_size} bytes, {playable(OUTPUT)}")
        print(f"demo: ok. Play it: {PLAYER} {OUTPUT.name}  (or open it in any video player)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
