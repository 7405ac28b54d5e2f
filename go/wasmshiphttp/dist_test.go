package wasmshiphttp

// Tests over a real dist: tests/test_go_handler.py builds examples/hello twice with wasmship
// (the second build after a one-line change, so the dist keeps the first module and has a dcz
// delta from it) and runs `go test` with WASMSHIP_TEST_DIST (the second) and
// WASMSHIP_TEST_DIST_FIRST (a copy of the first). By hand:
//
//	cp -r examples/hello /tmp/h && cd /tmp/h && python -m wasmship build . && cp -r dist /tmp/first
//	sed -i 's/Hello from/Hi from/' main.go && python -m wasmship build .
//	WASMSHIP_TEST_DIST=/tmp/h/dist WASMSHIP_TEST_DIST_FIRST=/tmp/first go test ./...

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type realFile struct {
	Path        string
	ContentType string `json:"content_type"`
	Sha256      string
	Immutable   bool
	Encodings   map[string]struct {
		Path, Coding, Dictionary string
		Sha256                   string
	}
}

type realManifest struct {
	Targets []struct {
		Files map[string]realFile
	}
	Previous []realFile
}

func realDist(t testing.TB, variable string) (string, realManifest) {
	dir := os.Getenv(variable)
	if dir == "" {
		t.Skipf("%s is not set: tests/test_go_handler.py builds a dist and sets it", variable)
	}
	var m realManifest
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func (m realManifest) file(logical string) realFile {
	f := m.Targets[0].Files[logical]
	f.Path = firstNonEmpty(f.Path)
	return f
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func get(t testing.TB, h http.Handler, method, target string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func read(t testing.TB, dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func expectHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder, want map[string]string) {
	t.Helper()
	for name, value := range want {
		got := rec.Header().Get(name)
		if name == "ETag" { // written as serve writes it, not in Go's canonical Etag
			got = strings.Join(rec.Header()["ETag"], ", ")
		}
		if got != value {
			t.Errorf("%s: %s is %q, want %q", what, name, got, value)
		}
	}
}

func TestServesTheDistAsServeDoes(t *testing.T) {
	dir, m := realDist(t, "WASMSHIP_TEST_DIST")
	h, err := NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	module := m.file("main.wasm")
	var delta, dictionary string
	for _, v := range module.Encodings {
		if v.Coding == "dcz" {
			delta, dictionary = v.Path, v.Dictionary
		}
	}
	if delta == "" || len(m.Previous) == 0 {
		t.Fatal("the test dist has no dcz delta and no kept module: build it twice")
	}
	moduleHeaders := map[string]string{
		"Content-Type": "application/wasm", "Cache-Control": immutableCache,
		"X-Content-Type-Options": "nosniff", "Vary": "Accept-Encoding, Available-Dictionary",
		"Use-As-Dictionary": `match="main.*.wasm"`,
	}

	br := get(t, h, "GET", "/"+module.Path, "Accept-Encoding", "gzip, deflate, br, zstd")
	expectHeaders(t, "module br", br, moduleHeaders)
	expectHeaders(t, "module br", br, map[string]string{"Content-Encoding": "br", "ETag": `"` + module.Encodings["br"].Sha256[:32] + `"`})
	if br.Code != 200 || !bytes.Equal(br.Body.Bytes(), read(t, dir, module.Encodings["br"].Path)) {
		t.Errorf("module br: %d, not the .br file's bytes", br.Code)
	}

	dcz := get(t, h, "GET", "/"+module.Path, "Accept-Encoding", "gzip, br, zstd, dcz",
		"Available-Dictionary", availableDictionary(dictionary))
	expectHeaders(t, "module dcz", dcz, moduleHeaders)
	if dcz.Header().Get("Content-Encoding") != "dcz" || !bytes.Equal(dcz.Body.Bytes(), read(t, dir, delta)) {
		t.Errorf("module with its dictionary: %q, want the dcz delta", dcz.Header().Get("Content-Encoding"))
	}
	other := get(t, h, "GET", "/"+module.Path, "Accept-Encoding", "gzip, br, dcz",
		"Available-Dictionary", availableDictionary(strings.Repeat("0", 64)))
	if other.Header().Get("Content-Encoding") != "br" {
		t.Errorf("another dictionary: %q, want br", other.Header().Get("Content-Encoding"))
	}
	noBr := get(t, h, "GET", "/"+module.Path, "Accept-Encoding", "br;q=0, gzip")
	if noBr.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0: %q, want gzip", noBr.Header().Get("Content-Encoding"))
	}
	identity := get(t, h, "GET", "/"+module.Path)
	expectHeaders(t, "module identity", identity, map[string]string{"Content-Encoding": "", "Accept-Ranges": "bytes", "ETag": `"` + module.Sha256[:32] + `"`})
	if !bytes.Equal(identity.Body.Bytes(), read(t, dir, module.Path)) {
		t.Error("module identity: not the module's bytes")
	}
	refused := get(t, h, "GET", "/"+module.Path, "Accept-Encoding", "identity;q=0, br;q=0, gzip;q=0")
	if refused.Code != 406 {
		t.Errorf("nothing acceptable: %d, want 406", refused.Code)
	}
	head := get(t, h, "HEAD", "/"+module.Path, "Accept-Encoding", "br")
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Length") != br.Header().Get("Content-Length") {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
	kept := get(t, h, "GET", "/"+m.Previous[0].Path, "Accept-Encoding", "br")
	expectHeaders(t, "kept module", kept, map[string]string{"Content-Encoding": "br", "Cache-Control": immutableCache, "Content-Type": "application/wasm"})

	page := m.file("index.html")
	for _, target := range []string{"/", "/index.html"} {
		rec := get(t, h, "GET", target, "Accept-Encoding", "gzip")
		expectHeaders(t, target, rec, map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
			"Content-Encoding": "gzip", "Vary": "Accept-Encoding", "Use-As-Dictionary": "",
		})
		etag := rec.Header()["ETag"][0]
		again := get(t, h, "GET", target, "Accept-Encoding", "gzip", "If-None-Match", etag)
		if again.Code != 304 || again.Body.Len() != 0 || again.Header()["ETag"][0] != etag {
			t.Errorf("%s revalidated: %d, want 304", target, again.Code)
		}
	}
	if rec := get(t, h, "GET", "/", "If-None-Match", `"`+page.Sha256[:32]+`"`); rec.Code != 304 {
		t.Errorf("index.html by the manifest's digest: %d, want 304", rec.Code)
	}

	manifest := get(t, h, "GET", "/manifest.json")
	expectHeaders(t, "manifest", manifest, map[string]string{"Content-Type": "application/json", "Cache-Control": "no-cache"})
	if !bytes.Equal(manifest.Body.Bytes(), read(t, dir, "manifest.json")) {
		t.Error("manifest.json: not its bytes")
	}
	byName := get(t, h, "GET", "/"+module.Encodings["gzip"].Path)
	expectHeaders(t, "a variant by name", byName, map[string]string{"Content-Type": "application/gzip", "Content-Encoding": "", "Cache-Control": immutableCache})

	part := get(t, h, "GET", "/"+module.Path, "Range", "bytes=0-3")
	if part.Code != 206 || part.Body.String() != "\x00asm" || part.Header().Get("Content-Range") == "" {
		t.Errorf("Range: %d %q", part.Code, part.Body.String())
	}
	if rec := get(t, h, "GET", "/"+module.Path, "Range", "bytes=999999999-"); rec.Code != 416 ||
		rec.Header().Get("Vary") != "" || rec.Header().Get("Content-Range") != "bytes */"+identity.Header().Get("Content-Length") {
		t.Errorf("a range past the end: %d %v, want 416 as serve sends it", rec.Code, rec.Header())
	}

	if err := os.WriteFile(filepath.Join(dir, "unlisted.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(filepath.Join(dir, "unlisted.txt"))
	for _, target := range []string{"/missing.js", "/unlisted.txt", "/../manifest.json", "/%2e%2e/etc/passwd",
		"/.wasmship", "/a%2f..%2fmanifest.json", "/client/route"} {
		rec := get(t, h, "GET", target)
		if rec.Code != 404 || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d, want 404", target, rec.Code)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		rec := get(t, h, method, "/")
		if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", method, rec.Code, rec.Header().Get("Allow"))
		}
	}

	spa, err := New(os.DirFS(dir), WithSPA())
	if err != nil {
		t.Fatal(err)
	}
	route := get(t, spa, "GET", "/settings/profile")
	if route.Code != 200 || route.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("a client route with WithSPA: %d", route.Code)
	}
	if rec := get(t, spa, "GET", "/missing.js"); rec.Code != 404 {
		t.Errorf("a missing file with WithSPA: %d, want 404", rec.Code)
	}

	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", h))
	if rec := get(t, mux, "GET", "/app/"+module.Path, "Accept-Encoding", "br"); rec.Code != 200 || rec.Header().Get("Content-Encoding") != "br" {
		t.Errorf("under http.StripPrefix: %d", rec.Code)
	}
}

func copyDir(t testing.TB, from, to string) {
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(to, e.Name()), read(t, from, e.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRefusesAHalfDeployedDist(t *testing.T) {
	dir, m := realDist(t, "WASMSHIP_TEST_DIST")
	module := m.file("main.wasm")
	missing := filepath.Join(t.TempDir(), "dist")
	copyDir(t, dir, missing)
	os.Remove(filepath.Join(missing, module.Encodings["br"].Path))
	_, err := NewDir(missing)
	var de *DistError
	if !errors.As(err, &de) || de.Path != module.Encodings["br"].Path || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing variant: %v", err)
	}
	short := filepath.Join(t.TempDir(), "dist")
	copyDir(t, dir, short)
	os.Truncate(filepath.Join(short, module.Path), 10)
	if _, err := New(os.DirFS(short)); !errors.As(err, &de) || de.Path != module.Path {
		t.Errorf("a module of another size: %v", err)
	}
	if _, err := NewDir(t.TempDir()); err == nil {
		t.Error("a folder without a manifest is served")
	}
}

// NewDir follows a dist that a build swaps in (a rename of the folder), as nginx does.
func TestFollowsANewDist(t *testing.T) {
	second, m2 := realDist(t, "WASMSHIP_TEST_DIST")
	first, m1 := realDist(t, "WASMSHIP_TEST_DIST_FIRST")
	root := t.TempDir()
	dist := filepath.Join(root, "dist")
	copyDir(t, first, dist)
	var logged []error
	h, err := NewDir(dist, WithErrorLog(func(err error) { logged = append(logged, err) }))
	if err != nil {
		t.Fatal(err)
	}
	old, now := m1.file("main.wasm").Path, m2.file("main.wasm").Path
	if rec := get(t, h, "GET", "/"+now); rec.Code != 404 {
		t.Fatalf("the next build's module before it is deployed: %d", rec.Code)
	}
	copyDir(t, second, filepath.Join(root, "staging"))
	if err := os.Rename(dist, filepath.Join(root, "retired")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "staging"), dist); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{now, old} {
		if rec := get(t, h, "GET", "/"+path, "Accept-Encoding", "br"); rec.Code != 200 {
			t.Errorf("after the swap, %s: %d", path, rec.Code)
		}
	}
	// A broken manifest swapped in: the last good dist stays served, the error is logged.
	os.WriteFile(filepath.Join(dist, "manifest.json"), []byte("{"), 0o644)
	if rec := get(t, h, "GET", "/"+now, "Accept-Encoding", "br"); rec.Code != 200 || len(logged) != 1 {
		t.Errorf("a broken new manifest: %d, %d errors logged", rec.Code, len(logged))
	}
}

type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// Serving a 2.5 MB module allocates no more per request than serving a 1 KB page, give or take
// io.Copy's one buffer: nothing grows with the file's size.
func TestAllocationDoesNotGrowWithTheFile(t *testing.T) {
	dir, m := realDist(t, "WASMSHIP_TEST_DIST")
	h, err := NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	perRequest := func(target string) uint64 {
		req := httptest.NewRequest("GET", target, nil)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 20
		for i := 0; i < n; i++ {
			h.ServeHTTP(&discard{h: http.Header{}}, req)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	small, large := perRequest("/"), perRequest("/"+m.file("main.wasm").Path)
	if large > small+64*1024 {
		t.Errorf("the module costs %d bytes a request, the page %d", large, small)
	}
}

func BenchmarkModule(b *testing.B) {
	dir, m := realDist(b, "WASMSHIP_TEST_DIST")
	h, err := NewDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/"+m.file("main.wasm").Path, nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(&discard{h: http.Header{}}, req)
	}
}

// The cost of following the folder (one stat of manifest.json and the symlink check a request):
// compare BenchmarkPage/dir with BenchmarkPage/fs.
func BenchmarkPage(b *testing.B) {
	dir, _ := realDist(b, "WASMSHIP_TEST_DIST")
	followed, err := NewDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	fixed, err := New(os.DirFS(dir))
	if err != nil {
		b.Fatal(err)
	}
	for name, h := range map[string]*Handler{"dir": followed, "fs": fixed} {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Accept-Encoding", "gzip, br")
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				h.ServeHTTP(&discard{h: http.Header{}}, req)
			}
		})
	}
}
