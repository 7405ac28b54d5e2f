"""The commands the benchmark times: go build, the plain pipeline, wasmship, one compression."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from harness.measure import Run, measure

REPO = Path(__file__).resolve().parent.parent.parent
BROTLI_CLI = "/usr/bin/brotli"  # Debian's brotli CLI: what a Makefile calls

# One compression of one file with wasmship's own encoder, timed inside a child process (so the
# benchmark's process stays small, see measure) and without the child's start-up.
CODEC_TIMER = """
import json, sys, time
from wasmship.encodings.encoders import Settings, compress
data = open(sys.argv[1], "rb").read()
settings = Settings(**json.loads(sys.argv[2]))
start = time.perf_counter()
size = len(compress(data, settings))
print(time.perf_counter() - start, size)
"""


class Bench:
    """The tools, the environment and the scratch folder one benchmark run shares."""

    def __init__(self, root: Path, go: str) -> None:
        self.root = root
        self.go = go
        goenv = json.loads(
            subprocess.run(
                [go, "env", "-json", "GOROOT", "GOVERSION", "GOCACHE"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        self.goroot = Path(goenv["GOROOT"])
        self.goversion: str = goenv["GOVERSION"]
        self.env = dict(os.environ)
        # PYTHONDONTWRITEBYTECODE: an installed wasmship has its bytecode (pip compiles it);
        # without it every run would compile every module again (about 55 ms of a start-up).
        for name in ("NO_COLOR", "WASMSHIP_CACHE_DIR", "PYTHONDONTWRITEBYTECODE"):
            self.env.pop(name, None)
        self.env.update(
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            WASMSHIP_GO=go,
            # Go's build cache stays the warm one it is; anything else a tool would keep in the
            # user's cache folder goes to the scratch folder.
            GOCACHE=goenv["GOCACHE"],
            XDG_CACHE_HOME=str(root / "xdg-cache"),
        )
        self.wasm_env = dict(self.env, GOOS="js", GOARCH="wasm", CGO_ENABLED="0")

    def shim(self) -> Path:
        for sub in ("lib/wasm", "misc/wasm"):
            if (self.goroot / sub / "wasm_exec.js").is_file():
                return self.goroot / sub / "wasm_exec.js"
        raise SystemExit("benchmark: no wasm_exec.js in GOROOT")

    def go_build_cmd(self, out: Path) -> list[str]:
        # The flags wasmship passes by default, so the comparison is like for like.
        return [self.go, "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."]

    def go_build(self, folder: Path, out: Path) -> Run:
        return measure(self.go_build_cmd(out), folder, self.wasm_env)

    def plain(self, folder: Path, out: Path) -> Run:
        """The pipeline wasmship replaces, as a Makefile would run it (into OUT, overwriting)."""
        out.mkdir(parents=True, exist_ok=True)
        script = " && ".join(
            [
                shlex.join(self.go_build_cmd(out / "main.wasm")),
                shlex.join(["cp", str(self.shim()), str(out / "wasm_exec.js")]),
                shlex.join(
                    ["gzip", "-9", "-k", "-f", str(out / "main.wasm"), str(out / "wasm_exec.js")]
                ),
                shlex.join(
                    [
                        BROTLI_CLI,
                        "-q",
                        "11",
                        "-k",
                        "-f",
                        str(out / "main.wasm"),
                        str(out / "wasm_exec.js"),
                    ]
                ),
            ]
        )
        return measure(["bash", "-c", script], folder, self.wasm_env)

    def wasmship(self, folder: Path, out: Path, cache: Path, *args: str, **env: str) -> Run:
        cmd = [sys.executable, "-m", "wasmship", "build", "-q", "-o", str(out)]
        return measure([*cmd, "--cache-dir", str(cache), *args], folder, {**self.env, **env})

    def codec(self, path: Path, settings: object) -> tuple[float, int]:
        """One compression of PATH with wasmship's encoder: seconds and compressed size."""
        out = subprocess.run(
            [sys.executable, "-c", CODEC_TIMER, str(path), json.dumps(vars(settings))],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return float(out[0]), int(out[1])
