"""How pytest-xdist (`-n auto --dist loadgroup`, as nox runs the suite) shares tests out.

Loaded as a pytest plugin by tests/conftest.py. The tests that drive Chromium or run real
nginx, Caddy and Apache (marks `browser` and `servers`) form one group, run one at a time on
one worker: two browsers at once on two cores hit timeouts, and a server restarted on its
port must not lose it to the other worker's free_port(). Every other test goes with its
module, so a module-scoped build runs once, not once per worker.

xdist's own loadgroup reads `xdist_group` marks from a node id that it rewrites, which
pytest 9.2 no longer lets a plugin do (a test's id is built from its structured `_id`): every
test landed on its own (pytest-dev/pytest-xdist#1386, open as of this writing). So the
workers write each test's group to a file that the controller's scheduler reads once all of
them have collected. When xdist passes groups again, this plugin can go for xdist_group marks.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

LIVE = "live"  # the group of the browser and real-server tests
GROUPS_KEY = "wasmship_groups"  # the file's path, in each worker's workerinput


def group_of(item: pytest.Item) -> str:
    """A test's group: LIVE, or its module (the node id up to the test's name)."""
    if item.get_closest_marker("browser") or item.get_closest_marker("servers"):
        return LIVE
    return item.nodeid.split("::", 1)[0]


def pytest_configure(config: pytest.Config) -> None:
    if _loadgroup(config) and not hasattr(config, "workerinput"):
        config.stash[_folder] = Path(tempfile.mkdtemp(prefix="wasmship-xdist-"))


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_folder, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell each worker where to write the groups."""
    folder = node.config.stash.get(_folder, None)
    if folder is not None:
        node.workerinput[GROUPS_KEY] = str(folder / "groups.json")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    folder = config.stash.get(_folder, None)
    if folder is None:
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's scope scheduling (largest unit first), the units being our groups."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # first asked once every worker has collected
                try:
                    self.groups = json.loads((folder / "groups.json").read_text())
                except (OSError, ValueError):
                    self.groups = {}
            return self.groups.get(nodeid) or nodeid.split("::", 1)[0]

    return GroupScheduling(config, log)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    path = workerinput.get(GROUPS_KEY)
    if path is None:
        return
    groups = {item.nodeid: group_of(item) for item in items}
    # Every worker writes the same map; a whole file replaces another whole one.
    temporary = f"{path}.{workerinput.get('workerid', os.getpid())}"
    Path(temporary).write_text(json.dumps(groups))
    os.replace(temporary, path)


def _loadgroup(config: pytest.Config) -> bool:
    return bool(config.pluginmanager.hasplugin("xdist")) and config.getvalue("dist") == "loadgroup"


_folder = pytest.StashKey[Path]()
