"""`wasmship init` on wasip1 guests whose build line says how Go builds them, shaped as public
plugin kits ship them (extism's go-pdk v1.1.3, tried outside the corpus): one package holds a
TinyGo file set and a Go file set told apart by a build tag, and the Makefile builds the Go one
with `-tags std`."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run
from tests.test_init import config_of, go_module

MAKEFILE = """\
.PHONY: example
example:
\ttinygo build -o example/tiny_count.wasm -target wasip1 -buildmode c-shared ./example/count
\ttinygo build -o example/tiny_reactor.wasm -target wasip1 -buildmode c-shared ./example/reactor

\tGOOS=wasip1 GOARCH=wasm go build -tags std -o example/std_count.wasm ./example/count
"""

TINY = """\
//go:build !std

package main

//go:wasmexport count_vowels
func countVowels() int32 { return 0 }
"""

STD = """\
//go:build std

package main

// The standard Go compiler runs main: the host calls _start.
func main() { println("counted") }
"""

REACTOR_ONLY_TINYGO = """\
package main

//go:wasmexport read_file
func readFile() int32 { return 0 }
"""


def test_a_guests_build_line_gives_its_tags_and_a_main_less_package_is_left_out(
    wasmship: Run, tmp_path: Path
) -> None:
    root = go_module(
        tmp_path / "pdk",
        {
            "Makefile": MAKEFILE,
            "example/count/tiny_main.go": TINY,
            "example/count/std_main.go": STD,
            "example/reactor/tiny_main.go": REACTOR_ONLY_TINYGO,
        },
    )
    proc = wasmship("init", cwd=root)
    assert proc.returncode == 0, proc.stderr
    text, config = config_of(root)
    # Built as the Makefile's Go line builds it: -tags std, a command (no -buildmode=c-shared),
    # though the files an untagged listing sees export functions.
    assert config["target"] == [
        {
            "name": "std_count",
            "package": "./example/count",
            "goos": "wasip1",
            "tags": ["std"],
        }
    ], text
    flat = text.replace("\n# ", " ")
    assert "Makefile:6 builds it with GOOS=wasip1 -tags std" in flat, text
    # No func main in its files: Go cannot build it (`function main is undeclared`), TinyGo can.
    assert "./example/reactor: has no func main" in flat, text
    built = wasmship("build", "-q", "--profile", "fast", cwd=root)
    assert built.returncode == 0, built.stderr
    assert (root / "dist").is_dir()
