package wasmshiphttp

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestAcceptEncodingAndChoice(t *testing.T) {
	dict := strings.Repeat("ab", 32)
	variants := []variant{
		{coding: "br", path: "m.wasm.br"},
		{coding: "dcz", path: "m.wasm.abababab.dcz", dictionary: dict},
		{coding: "gzip", path: "m.wasm.gz"},
	}
	cases := []struct {
		accept, dictionary, want string
		refused                  bool
	}{
		{"", "", "", false},
		{"gzip", "", "gzip", false},
		{"gzip, br", "", "br", false},
		{"br;q=0, gzip", "", "gzip", false},
		{"BR;Q=0.5, x-gzip", "", "gzip", false},
		{"dcz, br, gzip", dict, "dcz", false},
		{"dcz, br, gzip", strings.Repeat("cd", 32), "br", false},
		{"dcz;q=0, br", dict, "br", false},
		{"zstd", "", "", false},
		{"*", "", "dcz", true}, // "*" and no dictionary named: br (see the next case)
		{"identity;q=0", "", "", true},
		{"identity;q=0, gzip;q=0.5", "", "gzip", false},
		{"gzip;q=0.5, identity", "", "", false},
		{"br;q=1.5", "", "", false}, // malformed q: ignored
		{"*;q=0", "", "", true},
	}
	for _, c := range cases {
		if c.accept == "*" {
			v, refused := chooseVariant(parseAcceptEncoding([]string{"*"}), variants, "")
			if refused || v == nil || v.coding != "br" {
				t.Errorf("*: got %v %v, want br", v, refused)
			}
			continue
		}
		v, refused := chooseVariant(parseAcceptEncoding([]string{c.accept}), variants, c.dictionary)
		got := ""
		if v != nil {
			got = v.coding
		}
		if got != c.want || refused != c.refused {
			t.Errorf("%q: got %q refused=%v, want %q refused=%v", c.accept, got, refused, c.want, c.refused)
		}
	}
}

func TestRequestPath(t *testing.T) {
	ok := map[string]string{
		"/": "index.html", "": "index.html", "/main.wasm": "main.wasm", "/a//b/": "a/b",
		"/%6dain.wasm": "main.wasm", "x": "x",
	}
	for in, want := range ok {
		if got, fine := requestPath(in); !fine || got != want {
			t.Errorf("%q: got %q %v, want %q", in, got, fine, want)
		}
	}
	for _, in := range []string{"/../etc/passwd", "/%2e%2e/x", "/a%2fb", "/.git/config", "/a%5cb",
		"/a%00", "/%ff", "/.well-known", "/%zz"} {
		if got, fine := requestPath(in); fine {
			t.Errorf("%q: served as %q", in, got)
		}
	}
}

func TestParseRange(t *testing.T) {
	type r struct {
		start, end   int64
		whole, unsat bool
	}
	cases := map[string]r{
		"":                            {0, 99, true, false},
		"bytes=0-9":                   {0, 9, false, false},
		"bytes=90-":                   {90, 99, false, false},
		"bytes=-10":                   {90, 99, false, false},
		"bytes=-1000":                 {0, 99, false, false},
		"bytes=50-200":                {50, 99, false, false},
		"bytes=100-":                  {0, 0, false, true},
		"bytes=-0":                    {0, 0, false, true},
		"bytes=9-1":                   {0, 99, true, false},
		"bytes=0-1,5-6":               {0, 99, true, false},
		"bytes=-99999999999999999999": {0, 99, false, false},
	}
	for header, want := range cases {
		s, e, w, u := parseRange(header, 100)
		if (r{s, e, w, u}) != want {
			t.Errorf("%q: got %v, want %v", header, r{s, e, w, u}, want)
		}
	}
}

func TestNoneMatchAndDictionary(t *testing.T) {
	if !noneMatch([]string{`W/"abc", "def"`}, `"abc"`) || !noneMatch([]string{"*"}, `"x"`) ||
		noneMatch([]string{`"abcd"`}, `"abc"`) || noneMatch(nil, `"abc"`) {
		t.Error("If-None-Match comparison")
	}
	sha := strings.Repeat("0f", 32)
	if got := parseAvailableDictionary(availableDictionary(sha)); got != sha {
		t.Errorf("Available-Dictionary round trip: %q", got)
	}
	if parseAvailableDictionary(":AAAA:") != "" || parseAvailableDictionary("abc") != "" {
		t.Error("a value that names no SHA-256 is none")
	}
}

// Every value that reaches a header is checked: a manifest's data never becomes a header unchecked.
func TestHostileManifests(t *testing.T) {
	file := func(field, value string) string {
		f := map[string]string{
			"path": `"index.html"`, "size": "1", "sha256": `"` + strings.Repeat("a", 64) + `"`,
			"integrity": `"sha384-x"`, "content_type": `"text/html"`, "immutable": "false",
		}
		f[field] = value
		parts := []string{}
		for k, v := range f {
			parts = append(parts, `"`+k+`": `+v)
		}
		return `{"schema": 1, "tool": {"name": "wasmship", "version": "1"}, "targets": [{"name": "main", "files": {"index.html": {` + strings.Join(parts, ", ") + `}}}]}`
	}
	if _, err := parseManifest([]byte(file("size", "1"))); err != nil {
		t.Fatalf("a plain manifest: %v", err)
	}
	bad := map[string]string{
		"a CR LF in a content type":    file("content_type", `"text/html\r\nSet-Cookie: a=b"`),
		"a content type off grammar":   file("content_type", `"text/html, evil"`),
		"a path out of the dist":       file("path", `"../secret"`),
		"an absolute path":             file("path", `"/etc/passwd"`),
		"a backslash":                  file("path", `"a\\b"`),
		"an ETag's hash off grammar":   file("sha256", `"abc\" , W/\"x"`),
		"a negative size":              file("size", "-1"),
		"a size past 1 TiB":            file("size", "1099511627777"),
		"a number past 2**53":          file("immutable", "9007199254740993"),
		"a coding off grammar":         file("encodings", `{"br\r\nX: y": {"path": "a", "size": 1, "sha256": "`+strings.Repeat("a", 64)+`"}}`),
		"a variant coding off grammar": file("encodings", `{"br": {"coding": "BR ", "path": "a", "size": 1, "sha256": "`+strings.Repeat("a", 64)+`"}}`),
		"too deep":                     file("immutable", strings.Repeat("[", 40)+strings.Repeat("]", 40)),
		"not wasmship's":               `{"schema": 1, "tool": {"name": "other"}, "targets": []}`,
		"another schema":               `{"schema": 2, "tool": {"name": "wasmship"}, "targets": []}`,
		"not JSON":                     `{"schema": 1,`,
	}
	for name, doc := range bad {
		_, err := parseManifest([]byte(doc))
		var me *ManifestError
		if !errors.As(err, &me) {
			t.Errorf("%s: got %v, want a ManifestError", name, err)
		}
	}
}

func TestSPAFromTheManifest(t *testing.T) {
	doc := func(spa string) string {
		return `{"schema": 1, "tool": {"name": "wasmship", "version": "1"}` + spa +
			`, "targets": [{"name": "main", "files": {}}]}`
	}
	for spa, want := range map[string]bool{"": false, `, "spa": false`: false, `, "spa": true`: true} {
		d, err := parseManifest([]byte(doc(spa)))
		if err != nil || d.spa != want {
			t.Errorf("%q: spa %v (%v), want %v", spa, d != nil && d.spa, err, want)
		}
	}
	var me *ManifestError
	if _, err := parseManifest([]byte(doc(`, "spa": "yes"`))); !errors.As(err, &me) || me.Where != "spa" {
		t.Errorf(`"spa": "yes": got %v, want a ManifestError at spa`, err)
	}
}

func TestOwnHeaders(t *testing.T) {
	doc := func(headers string) string {
		return `{"schema": 1, "tool": {"name": "wasmship", "version": "1"}, "headers": ` + headers +
			`, "targets": [{"name": "main", "files": {}}]}`
	}
	d, err := parseManifest([]byte(doc(`[{"pattern": "/*", "set": {"A-One": "1", "B-Two": "2"}},
		{"pattern": "/main.*.wasm", "set": {"A-One": "wasm"}}]`)))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	setOwnHeaders(h, d.headers, "main.3f9c2a1b.wasm")
	if h.Get("A-One") != "wasm" || h.Get("B-Two") != "2" {
		t.Errorf("a later rule wins a name: %v", h)
	}
	h = http.Header{}
	setOwnHeaders(h, d.headers, "index.html")
	if h.Get("A-One") != "1" {
		t.Errorf("/* matches every file: %v", h)
	}
	for _, bad := range []string{
		`[{"pattern": "/*", "set": {"Content-Type": "text/html"}}]`,
		`[{"pattern": "/*", "set": {"set-cookie": "a=b"}}]`,
		`[{"pattern": "/*", "set": {"Bad Name": "x"}}]`,
		`[{"pattern": "/*", "set": {"X-A": "a\r\nB: c"}}]`,
		`[{"pattern": "/*", "set": {"X-A": "$host"}}]`,
		`[{"pattern": "*", "set": {"X-A": "1"}}]`,
		`[{"pattern": "/*", "set": {"X-A": "1"}}, {"pattern": "/*", "set": {"X-B": "1"}}]`,
		`{"/*": {"X-A": "1"}}`,
	} {
		var me *ManifestError
		if _, err := parseManifest([]byte(doc(bad))); !errors.As(err, &me) {
			t.Errorf("%s: got %v, want a ManifestError", bad, err)
		}
	}
}
