package wasmshiphttp_test

import (
	"encoding/json"
	"io/fs"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/wasmship/wasmship/go/wasmshiphttp"
)

// A dist embedded in the program (//go:embed dist) beside a JSON API route. The example reads
// the folder with os.DirFS; with an embed.FS, pass fs.Sub(embedded, "dist").
func Example() {
	var site fs.FS = os.DirFS("dist")
	front, err := wasmshiphttp.New(site)
	if err != nil {
		log.Fatal(err) // e.g. "main.3f9c2a1b.wasm.br: listed in manifest.json but missing ..."
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/time", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"time": time.Now().UTC().Format(time.RFC3339)})
	})
	mux.Handle("/", front)
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}

// A folder served from disk under a prefix, following each `wasmship build` into it, with
// client routes answered by index.html.
func ExampleNewDir() {
	app, err := wasmshiphttp.NewDir("dist", wasmshiphttp.WithSPA(),
		wasmshiphttp.WithErrorLog(func(err error) { log.Printf("new dist not served yet: %v", err) }))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/app/", http.StripPrefix("/app", app))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", nil))
}
