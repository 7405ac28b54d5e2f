"""The capability vocabulary of `allow = [...]`: readable words for the WASI imports they let a
module have, the baseline every Go wasip1 module imports, and the check (deny by default).

docs/plugins.md has the table; this module is the one place it is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from wasmship.distformat.plugin import Import, ModuleInterface

WASI = "wasi_snapshot_preview1"

# Every function of WASI preview 1 (a bare name in `allow` means the WASI one).
_FD = [
    "fd_advise",
    "fd_allocate",
    "fd_close",
    "fd_datasync",
    "fd_fdstat_get",
    "fd_fdstat_set_flags",
    "fd_fdstat_set_rights",
    "fd_filestat_get",
    "fd_filestat_set_size",
    "fd_filestat_set_times",
    "fd_pread",
    "fd_prestat_get",
    "fd_prestat_dir_name",
    "fd_pwrite",
    "fd_read",
    "fd_readdir",
    "fd_renumber",
    "fd_seek",
    "fd_sync",
    "fd_tell",
    "fd_write",
]
_PATH = [
    "path_create_directory",
    "path_filestat_get",
    "path_filestat_set_times",
    "path_link",
    "path_open",
    "path_readlink",
    "path_remove_directory",
    "path_rename",
    "path_symlink",
    "path_unlink_file",
]
_SOCK = ["sock_accept", "sock_recv", "sock_send", "sock_shutdown"]

WORDS: dict[str, tuple[str, ...]] = {
    "args": ("args_get", "args_sizes_get"),
    "env": ("environ_get", "environ_sizes_get"),
    "clock": ("clock_time_get", "clock_res_get"),
    "random": ("random_get",),
    "exit": ("proc_exit", "proc_raise"),
    "poll": ("poll_oneoff", "sched_yield"),
    # An import names a function, not a file descriptor: fd_read and fd_write serve stdin,
    # stdout, stderr and open files alike. The words differ when the module runs (see GRANTS).
    "stdin": ("fd_read",),
    "stdout": ("fd_write",),
    "stderr": ("fd_write",),
    "fs": (*_FD, *_PATH),
    "net": (*_SOCK,),
}
WASI_FUNCTIONS = frozenset(name for names in WORDS.values() for name in names)

# What Go's wasip1 runtime imports in every program (an empty main), and what package os adds
# in any program that imports it (fmt does): stdio's descriptors and the preopened folders.
# The check never refuses these, or it would refuse Go itself; what they can reach is granted
# when the module runs, by the words above (GRANTS): without "clock" the clock is a fake one.
BASELINE = frozenset(
    [
        "sched_yield",
        "proc_exit",
        "args_get",
        "args_sizes_get",
        "clock_time_get",
        "environ_get",
        "environ_sizes_get",
        "fd_write",
        "random_get",
        "poll_oneoff",
        "fd_close",
        "fd_fdstat_get",
        "fd_fdstat_set_flags",
        "fd_prestat_get",
        "fd_prestat_dir_name",
    ]
)

# The words a runner turns into something the module can reach when it runs.
GRANTS = ("args", "clock", "env", "fs", "random", "stderr", "stdout")
# What a wasip1 target without an allow list gets in `wasmship smoke`: no files, no network,
# no environment variables.
DEFAULT_GRANTS = ("args", "clock", "random", "stderr", "stdout")


def allow_problem(entry: object) -> str | None:
    """Why ENTRY cannot be in an allow list, or None: a word, a WASI name, or `module.name`."""
    if not isinstance(entry, str) or not entry:
        return f"allow entries are strings, not {entry!r}"
    if entry in WORDS or entry in WASI_FUNCTIONS:
        return None
    module, dot, name = entry.partition(".")
    if dot and module and name:
        if module == WASI and name not in WASI_FUNCTIONS:
            return f"{entry!r}: WASI preview 1 has no function {name!r}"
        return None
    close = difflib.get_close_matches(entry, [*WORDS, *sorted(WASI_FUNCTIONS)], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown capability {entry!r}{hint}: use {', '.join(sorted(WORDS))}, "
        "or an import as module.name"
    )


def allowed_keys(allow: Iterable[str]) -> frozenset[str]:
    """The `module.name` imports ALLOW lets a module have, the baseline included."""
    keys = {f"{WASI}.{name}" for name in BASELINE}
    for entry in allow:
        if entry in WORDS:
            keys.update(f"{WASI}.{name}" for name in WORDS[entry])
        elif entry in WASI_FUNCTIONS:
            keys.add(f"{WASI}.{entry}")
        else:
            keys.add(entry)
    return frozenset(keys)


def refused(interface: ModuleInterface, allow: Iterable[str]) -> tuple[Import, ...]:
    """The imports of INTERFACE that ALLOW does not let it have: deny by default."""
    keys = allowed_keys(allow)
    return tuple(i for i in interface.imports if i.key not in keys)


def words_for(item: Import) -> tuple[str, ...]:
    """The words that would allow ITEM ("fs", or "stdin" and "fs" for fd_read)."""
    if item.module != WASI:
        return ()
    return tuple(word for word, names in WORDS.items() if item.name in names)


def grants(allow: tuple[str, ...] | None) -> tuple[str, ...]:
    """What a module may reach when it runs: its allow list's runtime words, else the default."""
    if allow is None:
        return DEFAULT_GRANTS
    return tuple(word for word in GRANTS if word in allow)


@dataclass(frozen=True)
class Refusal:
    """One import a target's allow list does not grant, and how it got into the module."""

    target: str
    item: Import
    origin: str = ""  # "pulled in by example.com/x (x.Read → os.ReadFile → … → syscall.path_open)"

    def line(self) -> str:
        """`wasi_snapshot_preview1.path_open (allow "fs"): pulled in by ...`."""
        words = words_for(self.item)
        need = " or ".join(f'"{w}"' for w in words) if words else f'"{self.item.key}"'
        origin = f": {self.origin}" if self.origin else ""
        return f"{self.item.key} (allow {need}){origin}"
