package wasmshiphttp

import (
	"bytes"

	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Option configures a Handler.
type Option func(*Handler)

// WithSPA answers a GET or HEAD for a path the manifest does not list, whose last segment has no
// dot (a client route such as /settings/profile, not a missing file such as /app.js), with
// index.html, as a single-page app needs. A dist built with `wasmship build --spa` says so in its
// manifest and gets this rule without the option; WithSPA turns it on for any dist.
func WithSPA() Option { return func(h *Handler) { h.spa = true } }

// WithErrorLog sets where the handler reports a new dist it could not switch to (a folder served
// with NewDir); by default nothing is reported and the last good dist stays served.
func WithErrorLog(log func(error)) Option { return func(h *Handler) { h.log = log } }

// Handler serves a wasmship dist by the rules of `wasmship serve` and the server configs
// `wasmship build --server-config` writes. It is safe for concurrent use.
type Handler struct {
	fsys fs.FS
	dir  string // the folder NewDir serves ("" for New): its manifest is watched, symlinks checked
	spa  bool
	log  func(error)

	mu      sync.RWMutex
	current *dist
	stamp   os.FileInfo // manifest.json's when current was read (NewDir)
	retry   time.Time   // a broken new manifest is read again only after this
}

// New returns a Handler serving the dist in fsys (an embed.FS's sub-folder, an fs.Sub, ...).
// It reads manifest.json once, here: an error says what is wrong when the manifest is not one
// wasmship reads (*ManifestError) or a file it lists is missing or has another size (*DistError),
// so a half-deployed dist never starts serving.
func New(fsys fs.FS, opts ...Option) (*Handler, error) {
	h := &Handler{fsys: fsys}
	for _, opt := range opts {
		opt(h)
	}
	d, err := readDist(fsys)
	if err != nil {
		return nil, err
	}
	h.current = d
	return h, nil
}

// NewDir returns a Handler serving the dist in the folder dir, as New does for os.DirFS(dir),
// and follows a new dist that `wasmship build` swaps in: each request compares manifest.json's
// identity (os.SameFile, size, modification time: one stat) with the one it read, and reads the
// new manifest when it changed. A new dist that is broken or half there is not switched to: the
// last good one stays served (the error goes to WithErrorLog) and it is tried again a second
// later. Files are opened by path inside dir; a symlink that leads out of dir is not followed.
func NewDir(dir string, opts ...Option) (*Handler, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	stamp, err := os.Stat(filepath.Join(abs, manifestName))
	if err != nil {
		return nil, &DistError{Path: filepath.Join(dir, manifestName), Msg: "no manifest: is it a wasmship dist? run `wasmship build`"}
	}
	h, err := New(os.DirFS(abs), opts...)
	if err != nil {
		return nil, err
	}
	h.dir, h.stamp = abs, stamp
	return h, nil
}

// dist is the current dist, after reading a new manifest.json if the folder's changed.
func (h *Handler) dist() *dist {
	h.mu.RLock()
	d, stamp, retry := h.current, h.stamp, h.retry
	h.mu.RUnlock()
	if h.dir == "" {
		return d
	}
	now, err := os.Stat(filepath.Join(h.dir, manifestName))
	if err != nil || sameStamp(stamp, now) || time.Now().Before(retry) {
		return d // mid-swap, unchanged, or broken a moment ago: the last good dist
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stamp != stamp { // another request read it meanwhile
		return h.current
	}
	fresh, err := readDist(h.fsys)
	if err != nil {
		h.retry = time.Now().Add(time.Second)
		if h.log != nil {
			h.log(err)
		}
		return h.current
	}
	h.current, h.stamp, h.retry = fresh, now, time.Time{}
	return fresh
}

func sameStamp(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// ServeHTTP answers GET and HEAD for the files the manifest lists (405 for other methods, 404
// for anything else), negotiating the precompressed variants.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(w, r, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	escaped := r.URL.EscapedPath()
	relative, ok := requestPath(escaped)
	if !ok {
		plain(w, r, http.StatusNotFound, "not found")
		return
	}
	d := h.dist()
	header := w.Header()
	if relative == manifestName {
		header["ETag"] = []string{d.etag}
		header.Set("Cache-Control", revalidateCache)
		header.Set("X-Content-Type-Options", nosniff)
		if noneMatch(r.Header.Values("If-None-Match"), d.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		header.Set("Content-Type", "application/json")
		sendRanged(w, r, bytes.NewReader(d.manifest), int64(len(d.manifest)), d.etag)
		return
	}
	e := d.files[relative]
	if e == nil {
		if owner := d.owners[relative]; owner != nil {
			h.sendVariantByName(w, r, d, owner, relative)
			return
		}
		if !(h.spa || d.spa) || strings.Contains(path.Base(relative), ".") || d.files["index.html"] == nil {
			plain(w, r, http.StatusNotFound, "not found")
			return
		}
		e = d.files["index.html"]
	}
	if vary := varyOf(e); vary != "" {
		header.Set("Vary", vary)
	}
	if pattern := dictionaryPattern(e); pattern != "" {
		header.Set("Use-As-Dictionary", pattern)
	}
	v, refused := chooseVariant(parseAcceptEncoding(r.Header.Values("Accept-Encoding")), e.variants,
		parseAvailableDictionary(r.Header.Get("Available-Dictionary")))
	if refused {
		plain(w, r, http.StatusNotAcceptable, "no acceptable content coding")
		return
	}
	name, etag := e.path, e.etag
	if v != nil {
		name, etag = v.path, v.etag
	}
	f, size, err := h.open(name)
	if err != nil {
		header.Del("Vary")
		header.Del("Use-As-Dictionary")
		plain(w, r, http.StatusNotFound, "not found")
		return
	}
	defer f.Close()
	own := setOwnHeaders(header, d.headers, e.path)
	header["ETag"] = []string{etag}
	header.Set("Cache-Control", cacheControl(e.immutable))
	header.Set("X-Content-Type-Options", nosniff)
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	header.Set("Content-Type", e.contentType)
	if v != nil {
		header.Set("Content-Encoding", v.coding)
		send(w, r, f, http.StatusOK, 0, size)
		return
	}
	sendRanged(w, r, f, size, etag, own...)
}

// sendVariantByName answers a request for a precompressed file by its own name (a static
// host's loader fetches main.3f9c2a1b.wasm.gz and decodes it): the file as it is, cached as
// the file it encodes.
func (h *Handler) sendVariantByName(w http.ResponseWriter, r *http.Request, d *dist, owner *entry, name string) {
	etag := ""
	for _, v := range owner.variants {
		if v.path == name {
			etag = v.etag
		}
	}
	f, size, err := h.open(name)
	if err != nil {
		plain(w, r, http.StatusNotFound, "not found")
		return
	}
	defer f.Close()
	header := w.Header()
	header["ETag"] = []string{etag}
	header.Set("Cache-Control", cacheControl(owner.immutable))
	header.Set("X-Content-Type-Options", nosniff)
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	header.Set("Content-Type", contentType(name))
	sendRanged(w, r, f, size, etag)
}

// open opens a listed file: a regular file, inside the folder for NewDir (no symlink out).
func (h *Handler) open(name string) (fs.File, int64, error) {
	if h.dir != "" {
		// The folder itself may be a symlink a deploy switches; nothing inside may lead out.
		root, err := filepath.EvalSymlinks(h.dir)
		if err != nil {
			return nil, 0, err
		}
		real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			return nil, 0, err
		}
		if !strings.HasPrefix(real, root+string(filepath.Separator)) {
			return nil, 0, fs.ErrNotExist
		}
	}
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, 0, fs.ErrNotExist
	}
	return f, info.Size(), nil
}

func cacheControl(immutable bool) string {
	if immutable {
		return immutableCache
	}
	return revalidateCache
}

// sendRanged sends the identity bytes of a file, honouring one byte Range (and If-Range); a 416
// drops the file's headers, the project's OWN among them.
func sendRanged(w http.ResponseWriter, r *http.Request, f io.Reader, size int64, etag string, own ...string) {
	w.Header().Set("Accept-Ranges", "bytes")
	rangeHeader := r.Header.Get("Range")
	if ifRange, ok := r.Header["If-Range"]; ok && strings.TrimSpace(strings.Join(ifRange, ",")) != etag {
		rangeHeader = ""
	}
	_, seekable := f.(io.Seeker)
	if rangeHeader == "" || !seekable {
		send(w, r, f, http.StatusOK, 0, size)
		return
	}
	start, end, whole, unsatisfiable := parseRange(rangeHeader, size)
	switch {
	case unsatisfiable:
		h := w.Header()
		for _, name := range append([]string{"Accept-Ranges", "Cache-Control", "Content-Type", "Vary", "Use-As-Dictionary"}, own...) {
			h.Del(name)
		}
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		h["ETag"] = []string{etag}
		plain(w, r, http.StatusRequestedRangeNotSatisfiable, "range not satisfiable")
	case whole:
		send(w, r, f, http.StatusOK, 0, size)
	default:
		w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+
			strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
		send(w, r, f, http.StatusPartialContent, start, end-start+1)
	}
}

// send writes the head and, for GET, length bytes from offset: io.Copy lets net/http use
// sendfile for an *os.File, and nothing is buffered that grows with the file.
func send(w http.ResponseWriter, r *http.Request, f io.Reader, status int, offset, length int64) {
	w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return
	}
	if offset > 0 {
		if _, err := f.(io.Seeker).Seek(offset, io.SeekStart); err != nil {
			return
		}
	}
	_, _ = io.CopyN(w, f, length)
}

// plain is a short text answer: 404, 405, 406, 416.
func plain(w http.ResponseWriter, r *http.Request, status int, message string) {
	body := strconv.Itoa(status) + " " + message + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", revalidateCache)
	h.Set("X-Content-Type-Options", nosniff)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, body)
	}
}
