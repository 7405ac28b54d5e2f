package wasmshiphttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ManifestError says what is wrong with a dist's manifest.json, naming the JSON path.
type ManifestError struct {
	Where string // the JSON path of the value, e.g. targets[0].files.main.wasm.size
	Msg   string
}

func (e *ManifestError) Error() string {
	if e.Where == "" {
		return manifestName + ": " + e.Msg
	}
	return manifestName + ": " + e.Where + ": " + e.Msg
}

// variant is a precompressed representation of a file (br, zstd, gzip, or a dcz delta).
type variant struct {
	coding     string
	path       string
	size       int64
	etag       string
	dictionary string // hex SHA-256 of the dictionary a dcz delta needs; "" for others
}

// entry is one file of the dist, current or kept from an earlier build.
type entry struct {
	logical     string
	path        string
	size        int64
	etag        string
	contentType string
	immutable   bool
	variants    []variant // sorted by key, as the manifest lists them
}

// dist is what one manifest.json says: the files by path, their variants by path.
type dist struct {
	files    map[string]*entry // current files win over kept ones
	owners   map[string]*entry // a variant's path -> the file it encodes
	manifest []byte            // manifest.json as read (served as it is)
	etag     string            // of manifest.json
	spa      bool              // built with --spa: client routes get index.html
	headers  []headerRule      // the project's own ([headers]), in order
}

func etagFor(sha string) string { return `"` + sha[:32] + `"` }

func availableDictionary(sha string) string {
	raw, _ := hex.DecodeString(sha)
	return ":" + base64.StdEncoding.EncodeToString(raw) + ":"
}

func bad(where, format string, args ...any) error {
	return &ManifestError{Where: where, Msg: fmt.Sprintf(format, args...)}
}

func shown(v any) string {
	text := fmt.Sprintf("%#v", v)
	if len(text) > 60 {
		text = text[:59] + "…"
	}
	return text
}

// readDist reads manifest.json from fsys, checks it as wasmship's reader does, and checks that
// every file it lists is in fsys as a regular file of the listed size.
func readDist(fsys fs.FS) (*dist, error) {
	f, err := fsys.Open(manifestName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is this a wasmship dist? run `wasmship build`)", manifestName, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manifestName, err)
	}
	d, err := parseManifest(data)
	if err != nil {
		return nil, err
	}
	if err := d.check(fsys); err != nil {
		return nil, err
	}
	return d, nil
}

func parseManifest(data []byte) (*dist, error) {
	if len(data) > maxManifestSize {
		return nil, bad("", "larger than 64 MiB: not a wasmship manifest")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, bad("", "not JSON (%v)", err)
	}
	if dec.More() {
		return nil, bad("", "not JSON (data after the document)")
	}
	if err := checkValues(doc); err != nil {
		return nil, err
	}
	top, err := object(doc, "manifest")
	if err != nil {
		return nil, err
	}
	targets, ok := top["targets"].([]any)
	if !ok {
		return nil, bad("", "not a wasmship manifest: no `targets` list")
	}
	tool, err := object(top["tool"], "tool")
	if err != nil {
		return nil, err
	}
	if tool["name"] != "wasmship" {
		return nil, bad("tool.name", "expected 'wasmship', found %s", shown(tool["name"]))
	}
	if n, ok := top["schema"].(json.Number); !ok || n.String() != "1" {
		return nil, bad("schema", "this reader reads schema 1, found %s", shown(top["schema"]))
	}
	sum := sha256.Sum256(data)
	d := &dist{
		files:    map[string]*entry{},
		owners:   map[string]*entry{},
		manifest: data,
		etag:     etagFor(hex.EncodeToString(sum[:])),
	}
	for i, raw := range targets {
		where := fmt.Sprintf("targets[%d]", i)
		target, err := object(raw, where)
		if err != nil {
			return nil, err
		}
		name, ok := target["name"].(string)
		if !ok || !targetNameRE.MatchString(name) {
			return nil, bad(where+".name", "%s is not a target name", shown(target["name"]))
		}
		files, err := object(target["files"], where+".files")
		if err != nil {
			return nil, err
		}
		for _, logical := range sortedKeys(files) {
			e, err := parseFile(logical, files[logical], where+".files."+logical)
			if err != nil {
				return nil, err
			}
			if _, seen := d.files[e.path]; !seen {
				d.files[e.path] = e
			}
		}
	}
	if raw, ok := top["spa"]; ok {
		if d.spa, ok = raw.(bool); !ok {
			return nil, bad("spa", "expected true or false, found %s", shown(raw))
		}
	}
	if raw, ok := top["headers"]; ok {
		if d.headers, err = parseHeaderRules(raw); err != nil {
			return nil, err
		}
	}
	previous, ok := top["previous"]
	if !ok {
		previous = []any{}
	}
	kept, ok := previous.([]any)
	if !ok {
		return nil, bad("previous", "expected a list")
	}
	for i, raw := range kept {
		where := fmt.Sprintf("previous[%d]", i)
		found, err := object(raw, where)
		if err != nil {
			return nil, err
		}
		if g, ok := found["generation"].(json.Number); !ok || !wholeFrom1(g) {
			return nil, bad(where+".generation", "expected a whole number from 1, found %s", shown(found["generation"]))
		}
		logical, ok := found["logical"].(string)
		if !ok || logical == "" {
			return nil, bad(where+".logical", "expected a non-empty string")
		}
		e, err := parseFile(logical, raw, where)
		if err != nil {
			return nil, err
		}
		if _, seen := d.files[e.path]; !seen {
			d.files[e.path] = e
		}
	}
	for _, e := range d.files {
		for _, v := range e.variants {
			if _, listed := d.files[v.path]; !listed {
				d.owners[v.path] = e
			}
		}
	}
	return d, nil
}

func wholeFrom1(n json.Number) bool {
	i, err := n.Int64()
	return err == nil && i >= 1
}

func parseFile(logical string, raw any, where string) (*entry, error) {
	found, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	path, err := relPath(found["path"], where+".path")
	if err != nil {
		return nil, err
	}
	size, err := sizeOf(found["size"], where+".size")
	if err != nil {
		return nil, err
	}
	sha, err := sha(found["sha256"], where+".sha256")
	if err != nil {
		return nil, err
	}
	if s, ok := found["integrity"].(string); !ok || s == "" {
		return nil, bad(where+".integrity", "expected a non-empty string, found %s", shown(found["integrity"]))
	}
	ct, ok := found["content_type"].(string)
	if !ok || len(ct) > maxMediaType || !mediaTypeRE.MatchString(ct) {
		return nil, bad(where+".content_type", "expected a media type such as 'text/html; charset=utf-8', found %s", shown(found["content_type"]))
	}
	e := &entry{
		logical:     logical,
		path:        path,
		size:        size,
		etag:        etagFor(sha),
		contentType: ct,
		immutable:   found["immutable"] == true,
	}
	encodings := map[string]any{}
	if raw, ok := found["encodings"]; ok {
		if encodings, err = object(raw, where+".encodings"); err != nil {
			return nil, err
		}
	}
	for _, key := range sortedKeys(encodings) {
		if !codingRE.MatchString(key) {
			return nil, bad(where+".encodings", "expected a coding such as 'br' or 'gzip', found %s", shown(key))
		}
		v, err := parseVariant(key, encodings[key], where+".encodings."+key)
		if err != nil {
			return nil, err
		}
		e.variants = append(e.variants, v)
	}
	return e, nil
}

func parseVariant(key string, raw any, where string) (variant, error) {
	found, err := object(raw, where)
	if err != nil {
		return variant{}, err
	}
	path, err := relPath(found["path"], where+".path")
	if err != nil {
		return variant{}, err
	}
	size, err := sizeOf(found["size"], where+".size")
	if err != nil {
		return variant{}, err
	}
	digest, err := sha(found["sha256"], where+".sha256")
	if err != nil {
		return variant{}, err
	}
	coding := key
	if c, ok := found["coding"]; ok {
		s, ok := c.(string)
		if !ok || !codingRE.MatchString(s) {
			return variant{}, bad(where+".coding", "expected a coding such as 'br' or 'gzip', found %s", shown(c))
		}
		coding = s
	}
	v := variant{coding: coding, path: path, size: size, etag: etagFor(digest)}
	if dict, ok := found["dictionary"]; ok && dict != nil {
		if v.dictionary, err = sha(dict, where+".dictionary"); err != nil {
			return variant{}, err
		}
		if avail, ok := found["available_dictionary"]; ok && avail != nil && avail != availableDictionary(v.dictionary) {
			return variant{}, bad(where+".available_dictionary", "%s is not the dictionary's hash", shown(avail))
		}
	}
	return v, nil
}

// check refuses a dist whose listed files are missing or of another size (stat only).
func (d *dist) check(fsys fs.FS) error {
	for _, path := range sortedKeys(d.files) {
		e := d.files[path]
		if err := checkFile(fsys, e.path, e.size); err != nil {
			return err
		}
		for _, v := range e.variants {
			if err := checkFile(fsys, v.path, v.size); err != nil {
				return err
			}
		}
	}
	return nil
}

// DistError says that a dist's folder does not hold what its manifest lists.
type DistError struct {
	Path string // the listed file, relative to the dist
	Msg  string
}

func (e *DistError) Error() string {
	return e.Path + ": " + e.Msg + " (a half-deployed dist? run `wasmship build` or `wasmship verify`)"
}

func checkFile(fsys fs.FS, path string, size int64) error {
	info, err := fs.Stat(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return &DistError{Path: path, Msg: "listed in manifest.json but missing"}
	}
	if err != nil {
		return &DistError{Path: path, Msg: err.Error()}
	}
	if !info.Mode().IsRegular() || info.Size() != size {
		return &DistError{Path: path, Msg: fmt.Sprintf("not the file manifest.json lists (%d bytes)", size)}
	}
	return nil
}

func object(v any, where string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, bad(where, "expected an object, found %s", shown(v))
	}
	return m, nil
}
