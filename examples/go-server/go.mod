module example.com/go-server

go 1.21

require github.com/wasmship/wasmship/go/wasmshiphttp v0.0.0

// Until the handler is published, it comes from this checkout.
replace github.com/wasmship/wasmship/go/wasmshiphttp => ../../go/wasmshiphttp
