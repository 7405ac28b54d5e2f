package wasmshiphttp

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// The project's own response headers (`headers` in the manifest, [headers] in wasmship.toml),
// checked as wasmship/distformat/headers.py checks them: the manifest may be anyone's, so a
// header the dist's rules set, a connection header, Set-Cookie, a name that is not a token or a
// value off grammar is refused, and the counts are bounded.
const (
	maxHeaderRules = 32
	maxHeaders     = 16
	maxPattern     = 256
	maxHeaderName  = 64
	maxHeaderValue = 2048
)

var (
	headerPatternRE = regexp.MustCompile(`^/[A-Za-z0-9._~/*-]*$`)
	headerNameRE    = regexp.MustCompile(`^` + tokenRE + `$`)
	headerValueRE   = regexp.MustCompile(`^[\x20-\x7e]*$`)
	refusedHeaders  = map[string]bool{
		"content-type": true, "content-encoding": true, "content-length": true,
		"content-range": true, "accept-ranges": true, "cache-control": true, "expires": true,
		"age": true, "etag": true, "last-modified": true, "vary": true,
		"use-as-dictionary": true, "x-content-type-options": true, "allow": true,
		"location": true, "transfer-encoding": true, "connection": true, "keep-alive": true,
		"upgrade": true, "te": true, "trailer": true, "proxy-connection": true, "date": true,
		"server": true, "set-cookie": true,
	}
)

// headerRule is one pattern and the headers the files whose path it matches are sent with.
type headerRule struct {
	match   *regexp.Regexp
	headers [][2]string
}

// globRegexp is a pattern as a regexp: `*` is any run of characters, everything else itself.
func globRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i, part := range parts {
		parts[i] = regexp.QuoteMeta(part)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, ".*") + `$`)
}

func parseHeaderRules(raw any) ([]headerRule, error) {
	list, ok := raw.([]any)
	if !ok {
		return nil, bad("headers", "expected a list")
	}
	if len(list) > maxHeaderRules {
		return nil, bad("headers", "%d patterns: at most %d", len(list), maxHeaderRules)
	}
	rules := make([]headerRule, 0, len(list))
	seen := map[string]bool{}
	for i, item := range list {
		where := fmt.Sprintf("headers[%d]", i)
		rule, err := object(item, where)
		if err != nil {
			return nil, err
		}
		pattern, ok := rule["pattern"].(string)
		if !ok || len(pattern) > maxPattern || !headerPatternRE.MatchString(pattern) || seen[pattern] {
			return nil, bad(where+".pattern", "%s is not a pattern (or is listed twice)", shown(rule["pattern"]))
		}
		seen[pattern] = true
		set, err := object(rule["set"], where+".set")
		if err != nil {
			return nil, err
		}
		if len(set) > maxHeaders {
			return nil, bad(where+".set", "%d headers, at most %d", len(set), maxHeaders)
		}
		parsed := headerRule{match: globRegexp(pattern)}
		for _, name := range sortedKeys(set) {
			value, ok := set[name].(string)
			if !ok || len(name) > maxHeaderName || !headerNameRE.MatchString(name) ||
				refusedHeaders[strings.ToLower(name)] || len(value) > maxHeaderValue ||
				!headerValueRE.MatchString(value) || strings.ContainsAny(value, "\"\\$%{}") ||
				value == "" || strings.TrimSpace(value) != value {
				return nil, bad(where+".set."+name, "a header wasmship does not send: %s", shown(set[name]))
			}
			parsed.headers = append(parsed.headers, [2]string{name, value})
		}
		rules = append(rules, parsed)
	}
	return rules, nil
}

// setOwnHeaders sets the project's headers for a response that sends the file at path (a later
// rule wins a name) and returns their names.
func setOwnHeaders(header http.Header, rules []headerRule, path string) []string {
	var names []string
	for _, rule := range rules {
		if rule.match.MatchString("/" + path) {
			for _, h := range rule.headers {
				header.Set(h[0], h[1])
				names = append(names, h[0])
			}
		}
	}
	return names
}
