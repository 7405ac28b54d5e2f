"""`wasmship init` then `wasmship build` on projects shaped as the corpus's real ones are
(tests/corpus/projects.toml): what made each of them need a hand edit, with no network."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Run
from tests.test_init import APP, config_of, go_module


def test_init_in_a_package_folder_writes_that_folders_file(wasmship: Run, tmp_path: Path) -> None:
    # ebiten's examples/flappy, fyne's cmd/hello: the maintainer runs init in the game's folder
    # of a module holding many mains; the project is that folder, as for `go build` there.
    root = go_module(
        tmp_path / "engine",
        {f"examples/{n}/main.go": APP for n in ("2048", "flappy", "blocks")},
    )
    here = root / "examples" / "flappy"
    proc = wasmship("init", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert not (root / "wasmship.toml").exists()
    text, config = config_of(here)
    assert config == {"package": "."}, text
    assert "2048" not in text and "blocks" not in text
    out = here / "dist"
    built = wasmship("build", "-q", "--profile", "fast", cwd=here)
    assert built.returncode == 0, built.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    packages = [t["package"] for t in manifest["targets"]]
    assert packages == ["example.com/site/examples/flappy"], packages
