"""The WebAssembly binary format, read in one place: reader.py (the header, LEB128 numbers,
names, sections and the one error), interface.py (a module's imports and exports)."""
