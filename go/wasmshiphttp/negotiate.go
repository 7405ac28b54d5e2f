package wasmshiphttp

import (
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The rules of wasmship/delivery/negotiation.py and request.py, the ones `wasmship serve`
// applies and the server configs spell.
const (
	immutableCache  = "public, max-age=31536000, immutable"
	revalidateCache = "no-cache"
	nosniff         = "nosniff"
)

// codings are the content codings a dist may carry, in order of preference (smallest first).
var codings = []struct {
	token, alias    string
	needsDictionary bool
}{
	{"dcz", "", true},
	{"br", "", false},
	{"zstd", "", false},
	{"gzip", "x-gzip", false},
}

func rank(token string) int {
	for i, c := range codings {
		if c.token == token {
			return i
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var qvalueRE = regexp.MustCompile(`^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$`)

// acceptEncoding is a parsed Accept-Encoding: each named coding (or *) with its q-value.
type acceptEncoding map[string]float64

// quality is the q-value the client gave token, directly or by *; ok is false if it said nothing.
func (a acceptEncoding) quality(token string) (float64, bool) {
	if q, ok := a[token]; ok {
		return q, true
	}
	q, ok := a["*"]
	return q, ok
}

// parseAcceptEncoding parses Accept-Encoding (RFC 9110 12.5.3); malformed members are ignored.
func parseAcceptEncoding(headers []string) acceptEncoding {
	qualities := acceptEncoding{}
	for _, header := range headers {
		for _, member := range strings.Split(header, ",") {
			parts := strings.Split(member, ";")
			token := strings.ToLower(strings.TrimSpace(parts[0]))
			if token == "" {
				continue
			}
			for _, c := range codings {
				if c.alias != "" && token == c.alias {
					token = c.token
				}
			}
			q := 1.0
			for _, param := range parts[1:] {
				name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
				if strings.ToLower(strings.TrimSpace(name)) == "q" {
					value = strings.TrimSpace(value)
					q = -1
					if qvalueRE.MatchString(value) {
						q, _ = strconv.ParseFloat(value, 64)
					}
				}
			}
			if _, seen := qualities[token]; q >= 0 && !seen {
				qualities[token] = q
			}
		}
	}
	return qualities
}

// chooseVariant is the variant to send (nil for identity): highest q, then the order of codings.
// A dcz delta is a candidate only for the dictionary the client names. notAcceptable is true when
// the client refused identity and every variant there is.
func chooseVariant(accept acceptEncoding, variants []variant, dictionary string) (best *variant, notAcceptable bool) {
	bestQ, bestRank := 0.0, 0
	for i := range variants {
		v := &variants[i]
		r := rank(v.coding)
		if r < 0 || (codings[r].needsDictionary && v.dictionary != dictionary) {
			continue
		}
		q, _ := accept.quality(v.coding)
		if q == 0 {
			continue
		}
		if best == nil || q > bestQ || (q == bestQ && r < bestRank) {
			best, bestQ, bestRank = v, q, r
		}
	}
	identity, named := accept.quality("identity")
	if best != nil && (!named || bestQ >= identity) {
		return best, false
	}
	if !named || identity > 0 {
		return nil, false
	}
	return nil, true
}

// negotiable reports whether a file has variants (plain or deltas) a server knows how to label.
func varyOf(e *entry) string {
	hasVariants, hasDeltas := false, false
	for _, v := range e.variants {
		r := rank(v.coding)
		if r < 0 {
			continue
		}
		hasVariants = true
		if codings[r].needsDictionary {
			hasDeltas = true
		}
	}
	switch {
	case hasDeltas:
		return "Accept-Encoding, Available-Dictionary"
	case hasVariants:
		return "Accept-Encoding"
	}
	return ""
}

// dictionaryPattern is the Use-As-Dictionary match of a hashed module or shim (main.*.wasm), or "".
func dictionaryPattern(e *entry) string {
	if !e.immutable || e.path == e.logical {
		return ""
	}
	if !strings.HasSuffix(e.logical, ".wasm") && e.logical != "wasm_exec.js" {
		return ""
	}
	name := e.logical[strings.LastIndex(e.logical, "/")+1:]
	dot := strings.LastIndex(name, ".")
	stem, ext := "", name
	if dot >= 0 {
		stem, ext = name[:dot], name[dot+1:]
	}
	pattern := stem + ".*." + ext
	pattern = strings.ReplaceAll(pattern, `\`, `\\`)
	return `match="` + strings.ReplaceAll(pattern, `"`, `\"`) + `"`
}

var sfBinaryRE = regexp.MustCompile(`^\s*:([A-Za-z0-9+/]*={0,2}):\s*$`)

// parseAvailableDictionary is the hex SHA-256 an Available-Dictionary header names, or "".
func parseAvailableDictionary(value string) string {
	m := sfBinaryRE.FindStringSubmatch(value)
	if m == nil {
		return ""
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(m[1])
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

var entityTagRE = regexp.MustCompile(`\s*(?:W/)?("[^"]*")\s*(?:,|$)`)

// noneMatch is whether If-None-Match matches etag (weak comparison, RFC 9110 13.1.2).
func noneMatch(headers []string, etag string) bool {
	if len(headers) == 0 {
		return false
	}
	header := strings.Join(headers, ", ")
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, m := range entityTagRE.FindAllStringSubmatch(header, -1) {
		if m[1] == etag {
			return true
		}
	}
	return false
}

// requestPath is the dist-relative path an escaped URL path names, or ok=false if it must not be
// served: each segment is percent-decoded on its own (%2f smuggles no separator in); `.`, `..`,
// dotfiles, backslashes, NUL and bytes that are not UTF-8 are refused. `/` names index.html.
func requestPath(escaped string) (string, bool) {
	segments := make([]string, 0, 4)
	for _, raw := range strings.Split(escaped, "/") {
		if raw == "" {
			continue
		}
		segment := raw
		if strings.Contains(raw, "%") {
			decoded, err := url.PathUnescape(raw)
			if err != nil || !utf8.ValidString(decoded) {
				return "", false
			}
			segment = decoded
		}
		if strings.HasPrefix(segment, ".") || strings.ContainsAny(segment, "/\\\x00") {
			return "", false
		}
		segments = append(segments, segment)
	}
	if len(segments) == 0 {
		return "index.html", true
	}
	return strings.Join(segments, "/"), true
}

var singleRangeRE = regexp.MustCompile(`(?i)^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$`)

// parseRange is the single byte range [start, end] header asks for within size bytes; whole is
// true to send everything (no range, malformed or multi-range); unsatisfiable for a 416.
func parseRange(header string, size int64) (start, end int64, whole, unsatisfiable bool) {
	m := singleRangeRE.FindStringSubmatch(header)
	if m == nil {
		return 0, size - 1, true, false
	}
	first, last := m[1], m[2]
	if first == "" {
		if last == "" {
			return 0, size - 1, true, false
		}
		suffix, err := strconv.ParseInt(last, 10, 64)
		if err != nil { // more digits than an int64: more than the whole file
			suffix = size
		}
		if suffix == 0 || size == 0 {
			return 0, 0, false, true
		}
		return max64(0, size-suffix), size - 1, false, false
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, 0, false, true
	}
	end = size - 1
	if last != "" {
		if end, err = strconv.ParseInt(last, 10, 64); err != nil {
			end = size - 1
		}
		if end < start {
			return 0, size - 1, true, false
		}
	}
	if start >= size {
		return 0, 0, false, true
	}
	if end > size-1 {
		end = size - 1
	}
	return start, end, false, false
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
