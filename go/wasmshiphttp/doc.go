// Package wasmshiphttp serves a wasmship dist from a Go program, as `wasmship serve` and the
// server configs of `wasmship build --server-config` do.
//
// A dist is the folder `wasmship build` writes: content-hashed modules and scripts, their
// precompressed siblings (.br, .zst, .gz, and .dcz deltas from the modules a returning visitor
// already holds), index.html and manifest.json. http.FileServer would send none of what the dist
// was built for; the Handler sends:
//
//   - the representation the request's Accept-Encoding allows, from the precompressed files the
//     manifest lists (dcz when Available-Dictionary names a kept module, then br, zstd, gzip,
//     identity, honouring q-values including q=0; 406 when the client refuses all of them),
//     never compressing at request time;
//   - Vary (Accept-Encoding, plus Available-Dictionary for a file with deltas) and
//     Use-As-Dictionary for hashed modules and the shim;
//   - the manifest's Content-Type (application/wasm for modules) and X-Content-Type-Options:
//     nosniff;
//   - Cache-Control "public, max-age=31536000, immutable" for content-hashed files, "no-cache"
//     with an ETag for index.html, manifest.json, the service worker and every unhashed file;
//     the ETag is the manifest's SHA-256 of the bytes sent, answered 304 on If-None-Match;
//   - GET and HEAD (405 with Allow otherwise), a single byte Range of identity bytes, and only
//     the files the manifest lists: 404 for anything else (no listings, no dotfiles, no path
//     tricks, nothing outside the dist).
//
// manifest.json is read once when the Handler is made, and checked as wasmship checks it: every
// value that reaches a header has that header's grammar, sizes and hashes are bounded, and each
// listed file must be there with its size, so a half-deployed dist does not start. NewDir serves
// a folder and follows a new dist `wasmship build` swaps in.
//
// To require the module before it is published, point go.mod at a checkout:
//
//	require github.com/wasmship/wasmship/go/wasmshiphttp v0.0.0
//	replace github.com/wasmship/wasmship/go/wasmshiphttp => ../path/to/wasmship/go/wasmshiphttp
package wasmshiphttp
