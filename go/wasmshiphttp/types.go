package wasmshiphttp

import (
	"path"
	"strings"
)

// contentTypes is wasmship's table (wasmship/distformat/names.py CONTENT_TYPES): the type a
// server must send for a file by its extension, for files whose entry does not say it.
var contentTypes = map[string]string{
	".wasm": "application/wasm", ".html": "text/html; charset=utf-8",
	".htm": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
	".json": "application/json", ".map": "application/json",
	".webmanifest": "application/manifest+json", ".xml": "application/xml",
	".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8",
	".pdf": "application/pdf", ".svg": "image/svg+xml", ".png": "image/png",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".ico": "image/x-icon", ".bmp": "image/bmp", ".woff": "font/woff",
	".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".mp3": "audio/mpeg",
	".ogg": "audio/ogg", ".wav": "audio/wav", ".flac": "audio/flac", ".mp4": "video/mp4",
	".webm": "video/webm", ".zip": "application/zip", ".gz": "application/gzip",
	".zst": "application/zstd",
}

func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}
