package wasmshiphttp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The bounds of wasmship/distformat/bounds.py: a manifest comes from a folder anyone may have
// edited, so every value is bounded, and every value that reaches a header has its grammar.
const (
	maxManifestSize = 64 * 1024 * 1024
	maxDepth        = 32
	maxFileSize     = int64(1) << 40
	maxNumber       = int64(1) << 53
	maxMediaType    = 256
	manifestName    = "manifest.json"
)

var (
	tokenRE     = `[!#$%&'*+.^_` + "`" + `|~0-9A-Za-z-]+`
	quotedRE    = `"(?:[\t !#-\[\]-~]|\\[\t -~])*"`
	mediaTypeRE = regexp.MustCompile(`^` + tokenRE + `/` + tokenRE +
		`(?:[ \t]*;[ \t]*` + tokenRE + `=(?:` + tokenRE + `|` + quotedRE + `))*$`)
	codingRE     = regexp.MustCompile(`^[a-z0-9-]{1,80}$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)
)

// relPath is wasmship's one path rule (distformat/names.py relative_path): a plain relative
// POSIX path inside the dist; no absolute path, drive, backslash, NUL, or empty/./.. segment.
// A dotfile segment is refused too: requests for one are never answered.
func relPath(v any, where string) (string, error) {
	p, ok := v.(string)
	if !ok || p == "" || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") ||
		(len(p) > 1 && p[1] == ':') {
		return "", bad(where, "%s is not a path inside the dist", shown(v))
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return "", bad(where, "%s is not a path inside the dist", shown(v))
		}
	}
	return p, nil
}

func sizeOf(v any, where string) (int64, error) {
	n, ok := v.(json.Number)
	if ok {
		if i, err := n.Int64(); err == nil && i >= 0 && i <= maxFileSize {
			return i, nil
		}
	}
	return 0, bad(where, "expected a size in bytes up to 1 TiB, found %s", shown(v))
}

func sha(v any, where string) (string, error) {
	s, ok := v.(string)
	if !ok || !sha256RE.MatchString(s) {
		return "", bad(where, "expected a lowercase hex SHA-256, found %s", shown(v))
	}
	return s, nil
}

// checkValues walks the document without recursion: no nesting deeper than maxDepth, no
// control character in a key or a string, no number beyond 2**53.
func checkValues(doc any) error {
	type item struct {
		value any
		where string
		depth int
	}
	pending := []item{{doc, "", 1}}
	for len(pending) > 0 {
		it := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		switch v := it.value.(type) {
		case map[string]any:
			if it.depth > maxDepth {
				return bad("", "nested deeper than %d levels: not a wasmship manifest", maxDepth)
			}
			for key, child := range v {
				if hasControl(key) {
					return bad(it.where, "the key %s has a control character", shown(key))
				}
				where := key
				if it.where != "" {
					where = it.where + "." + key
				}
				pending = append(pending, item{child, where, it.depth + 1})
			}
		case []any:
			if it.depth > maxDepth {
				return bad("", "nested deeper than %d levels: not a wasmship manifest", maxDepth)
			}
			for i, child := range v {
				pending = append(pending, item{child, fmt.Sprintf("%s[%d]", it.where, i), it.depth + 1})
			}
		case string:
			if hasControl(v) {
				return bad(it.where, "%s has a control character", shown(v))
			}
		case json.Number:
			if !numberInBounds(v) {
				return bad(it.where, "%s is out of bounds (at most 2**53)", v)
			}
		}
	}
	return nil
}

func numberInBounds(n json.Number) bool {
	if i, err := n.Int64(); err == nil {
		return i >= -maxNumber && i <= maxNumber
	}
	f, err := n.Float64()
	return err == nil && f >= -float64(maxNumber) && f <= float64(maxNumber)
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
