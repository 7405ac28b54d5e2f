"""Run a wasip1 module under wasmtime, with a memory limit, a fuel limit and a time limit."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from wasmship.errors import UsageError

DEFAULT_MEMORY = 512 << 20
DEFAULT_FUEL = 20_000_000_000  # instructions, roughly; a runaway loop stops here


@dataclass(frozen=True)
class WasiRun:
    """How a wasip1 module ended, and what it printed."""

    exit_code: int  # -1 when it trapped or ran out of time or fuel
    stdout: str
    stderr: str
    trap: str = ""


def run_wasi(
    module: Path,
    args: tuple[str, ...] = (),
    *,
    timeout: float = 60.0,
    memory: int = DEFAULT_MEMORY,
    fuel: int = DEFAULT_FUEL,
) -> WasiRun:
    """Run MODULE's _start with WASI; stdout and stderr are captured."""
    try:
        import wasmtime
    except ImportError as exc:
        raise UsageError(
            "running wasip1 modules needs wasmtime: pip install 'wasmship[wasi]'"
        ) from exc
    config = wasmtime.Config()
    config.consume_fuel = True
    config.epoch_interruption = True
    engine = wasmtime.Engine(config)
    store = wasmtime.Store(engine)
    store.set_fuel(fuel)
    store.set_epoch_deadline(1)
    store.set_limits(memory_size=memory)
    with tempfile.TemporaryDirectory(prefix="wasmship-wasi-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        wasi = wasmtime.WasiConfig()
        wasi.argv = [module.name, *args]
        wasi.stdout_file = str(out)
        wasi.stderr_file = str(err)
        store.set_wasi(wasi)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        timer = threading.Timer(timeout, engine.increment_epoch)
        timer.start()
        code, trap = 0, ""
        try:
            instance = linker.instantiate(store, wasmtime.Module.from_file(engine, str(module)))
            start = instance.exports(store)["_start"]
            assert isinstance(start, wasmtime.Func)
            start(store)
        except wasmtime.ExitTrap as exit_trap:
            code = exit_trap.code
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            code, trap = -1, str(exc).strip().splitlines()[0]
        finally:
            timer.cancel()
        return WasiRun(code, _read(out), _read(err), trap)


def _read(path: Path) -> str:
    return path.read_text("utf-8", "replace") if path.exists() else ""
