// go-server serves a wasmship dist embedded in its binary, beside a JSON API route: one Go
// binary for the front end and the API.
//
//	wasmship build                # the front end (./web) into dist/, as wasmship.toml says
//	go build && ./go-server       # http://127.0.0.1:8080/
//
// With -dist DIR it serves DIR from disk instead, following each `wasmship build` into it.
package main

import (
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/wasmship/wasmship/go/wasmshiphttp"
)

// The front end as `wasmship build` wrote it; a fresh clone holds a placeholder manifest.
//
//go:embed dist
var embedded embed.FS

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on")
	dir := flag.String("dist", "", "serve this `DIR` from disk instead of the embedded dist")
	flag.Parse()

	front, err := frontEnd(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-server: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/time", apiTime)
	mux.Handle("/", front)
	log.Printf("go-server: serving on http://%s/", *addr)
	server := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(server.ListenAndServe())
}

// frontEnd is the handler of the dist: from DIR on disk, else the embedded one. A fresh clone's
// placeholder (no page yet) gets a page saying how to build the front end.
func frontEnd(dir string) (http.Handler, error) {
	if dir != "" {
		return wasmshiphttp.NewDir(dir, wasmshiphttp.WithErrorLog(func(err error) {
			log.Printf("go-server: a new dist in %s is not served yet: %v", dir, err)
		}))
	}
	dist, err := fs.Sub(embedded, "dist")
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(dist, "index.html"); err != nil {
		log.Print("go-server: the embedded dist is the placeholder: run `wasmship build`, then `go build`")
		return http.HandlerFunc(placeholder), nil
	}
	return wasmshiphttp.New(dist)
}

func placeholder(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintln(w, "No front end yet: run `wasmship build` in examples/go-server, then `go build`.")
}

// apiTime is the API route beside the front end: the server's time as JSON.
func apiTime(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"time": time.Now().UTC().Format(time.RFC3339)})
}
