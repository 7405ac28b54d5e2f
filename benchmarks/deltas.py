#!/usr/bin/env python3
"""What a returning visitor downloads after a one-line change: dcz delta against br.

    python benchmarks/deltas.py [--levels 6,12,19] [--json FILE]

For each program (generated in a temporary folder; nothing is downloaded): build it with
GOOS=js GOARCH=wasm -trimpath -ldflags=-s -w, change one line of code (a println added to main),
build again, then compress the new module with brotli q11 (what wasmship ships) and as a dcz
delta against the old one at each level. Times are wall-clock seconds on this machine, one run.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import brotli  # noqa: E402

from wasmship.encodings import dcz  # noqa: E402
from wasmship.encodings.encoders import brotli_window  # noqa: E402

HELLO = """package main

import "fmt"

func main() {
	fmt.Println("hello from Go WebAssembly")
	// CHANGE
}
"""

BIG = """package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"image/png"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"text/template/parse"
	"time"
)

func main() {
	j, _ := json.Marshal(map[string]int{"a": 1})
	x, _ := xml.Marshal(struct{ A int }{1})
	t := template.Must(template.New("t").Parse("<p>{{.}}</p>"))
	u, _ := url.Parse("https://example.org/?a=1")
	r := regexp.MustCompile(`a+b`)
	n := new(big.Int).Exp(big.NewInt(2), big.NewInt(100), nil)
	_, _ = parse.Parse("x", "{{.}}", "{{", "}}")
	fmt.Println(string(j), string(x), t.Name(), u.Host, r.String(), n, png.BestCompression,
		http.StatusOK, time.Second)
	// CHANGE
}
"""

PROGRAMS = {"hello": HELLO, "big": BIG}
CHANGE = '\tfmt.Println("one more line")'


def go_build(folder: Path, out: Path) -> bytes:
    env = {**os.environ, "GOOS": "js", "GOARCH": "wasm", "CGO_ENABLED": "0"}
    subprocess.run(
        ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."],
        cwd=folder,
        env=env,
        check=True,
    )
    return out.read_bytes()


def measure(name: str, source: str, levels: list[int], work: Path) -> dict[str, object]:
    folder = work / name
    folder.mkdir()
    (folder / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
    (folder / "main.go").write_text(source)
    old = go_build(folder, work / f"{name}-1.wasm")
    (folder / "main.go").write_text(source.replace("\t// CHANGE", CHANGE))
    new = go_build(folder, work / f"{name}-2.wasm")
    start = time.perf_counter()
    br = brotli.compress(new, quality=11, lgwin=brotli_window(len(new)))
    br_seconds = time.perf_counter() - start
    row: dict[str, object] = {
        "program": name,
        "module": len(new),
        "br": len(br),
        "br_seconds": round(br_seconds, 2),
        "fits_window": dcz.fits(len(new), len(old)),
    }
    for level in levels:
        start = time.perf_counter()
        delta = dcz.compress(new, old, level)
        seconds = time.perf_counter() - start
        assert dcz.decompress(delta, old, len(new)) == new
        row[f"dcz{level}"] = len(delta)
        row[f"dcz{level}_seconds"] = round(seconds, 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="6,12,19")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as temp:
        rows = [measure(n, s, levels, Path(temp)) for n, s in PROGRAMS.items()]
    header = "| program | module | br q11 (s) |" + "".join(
        f" dcz {lv} (s) | % of br |" for lv in levels
    )
    print(header)
    print("|" + "---|" * (3 + 2 * len(levels)))
    for row in rows:
        line = f"| {row['program']} | {row['module']:,} B | {row['br']:,} B ({row['br_seconds']}) |"
        for level in levels:
            size = int(str(row[f"dcz{level}"]))
            percent = 100 * size / int(str(row["br"]))
            line += f" {size:,} B ({row[f'dcz{level}_seconds']}) | {percent:.1f} % |"
        print(line)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
