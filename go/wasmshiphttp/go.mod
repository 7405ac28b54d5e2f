module github.com/wasmship/wasmship/go/wasmshiphttp

go 1.21
