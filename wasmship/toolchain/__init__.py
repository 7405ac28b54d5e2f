"""The Go toolchain, talked to in one place: finding go (locate.py), running it (runner.py, with
processes.py for builds that die with wasmship), the `go build` command line (buildline.py), the
`go list -json` reader (golist.py), the linker's `-dumpdep` graph (dumpdep.py) and which package
a Go symbol belongs to (symbols.py)."""
