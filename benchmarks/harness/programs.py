"""The Go programs the benchmark builds, laid out in a scratch folder as a fresh clone would be."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "programs"


@dataclass(frozen=True)
class Program:
    """One benchmark program: the source folders laid over each other, in order."""

    name: str
    layers: tuple[str, ...]
    summary: str
    corpus_bytes: int = 0  # embed: the generated text it embeds


PROGRAMS: dict[str, Program] = {
    p.name: p
    for p in (
        Program("hello", ("hello",), "fmt.Println"),
        Program("embed", ("embed",), "//go:embed of 5 MiB of generated text", 5 * 1024 * 1024),
        Program(
            "heavy",
            ("../../tests/fixtures/heavy",),
            "the test suite's code-cache program: json, xml, gob, templates, regexp, AES, PNG",
        ),
        Program("big", ("big",), "a wide slice of the standard library"),
        Program(
            "big18",
            ("big", "big18"),
            "big plus goldmark, yaml.v3, two TOML parsers, bluemonday, goquery and x/image "
            "(pinned in go.mod and go.sum, fetched once from the Go module proxy)",
        ),
    )
}


def corpus(size: int, seed: int = 7) -> str:
    """Deterministic English-like text: Zipf-distributed words from a made-up vocabulary."""
    rng = random.Random(seed)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    weights = [26 - i for i in range(26)]
    vocabulary = ["".join(rng.choices(letters, weights, k=rng.randint(2, 10))) for _ in range(5000)]
    zipf = [1 / (rank + 1) for rank in range(len(vocabulary))]
    lines: list[str] = []
    total = 0
    while total < size:
        words = rng.choices(vocabulary, zipf, k=rng.randint(6, 18))
        line = " ".join(words).capitalize() + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def clone(program: Program, folder: Path, build: str = "v1") -> Path:
    """Lay PROGRAM out in FOLDER afresh (a new checkout: no dist, no leftovers), at BUILD."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for layer in program.layers:
        shutil.copytree(SOURCES / layer, folder, dirs_exist_ok=True)
    if program.corpus_bytes:
        (folder / "corpus.txt").write_text(corpus(program.corpus_bytes))
    set_build(folder, build)
    return folder


def set_build(folder: Path, value: str) -> None:
    """Change the line every program has; a new value is new to Go's and wasmship's caches."""
    line = f'const build = "{value}" // the line the benchmark changes\n'
    main = folder / "main.go"
    lines = main.read_text().splitlines(keepends=True)
    index = next((i for i, text in enumerate(lines) if text.startswith("const build = ")), None)
    if index is None:  # a program borrowed from the tests: the line goes in a file of its own
        (folder / "build.go").write_text("package main\n\n" + line)
        return
    lines[index] = line
    main.write_text("".join(lines))
