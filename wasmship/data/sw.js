// wasmship service worker (wasmship build --offline; docs/offline.md). It serves one generation
// of the dist from one cache named by the generation's id, so a page never mixes two builds:
// install fetches every file of the generation with its SRI hash (a mismatch fails the install,
// and the generation is never activated), activation deletes the older generations' caches.
// GENERATION is null in the worker a build without --offline ships after one with it: that
// worker deletes the caches and unregisters itself.
"use strict";
var GENERATION = /* wasmship:generation */ null;
var SCOPE = self.registration.scope;
var PREFIX = "wasmship " + SCOPE + " "; // the caches of this dist, not of another on the origin
var CACHE = GENERATION ? PREFIX + GENERATION.id : "";
var FILES = {}; // absolute URL (no query) -> true: the generation's files, the page excepted
if (GENERATION) {
  GENERATION.files.forEach(function (file) {
    FILES[new URL(file.path, SCOPE).href] = true;
  });
}

function stored(response) {
  // A navigation may not be answered with a redirected response: keep the bytes, not the hops.
  if (!response.redirected) {
    return Promise.resolve(response);
  }
  return response.blob().then(function (body) {
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  });
}

function precache() {
  // Every file of the generation, checked against its integrity; nothing kept unless all are.
  var page = { path: "", integrity: GENERATION.page.integrity, fresh: true };
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(GENERATION.files.concat([page]).map(function (file) {
      var url = new URL(file.path, SCOPE).href;
      // Hashed files may come from the HTTP cache; the page and other unhashed files must not.
      var request = new Request(url, {
        integrity: file.integrity,
        cache: file.fresh ? "no-cache" : "default",
      });
      return fetch(request).then(function (response) {
        if (!response.ok) {
          throw new Error(file.path + ": HTTP " + response.status);
        }
        return stored(response).then(function (kept) {
          return cache.put(url, kept);
        });
      });
    }));
  }).catch(function (error) {
    return caches.delete(CACHE).then(function () {
      throw error;
    });
  });
}

self.addEventListener("install", function (event) {
  // Activate as soon as the generation is complete: a tab of the old one keeps its files (the
  // server keeps the old hashed files, and hashed URLs are never answered from this cache).
  var ready = GENERATION ? precache() : Promise.resolve();
  event.waitUntil(ready.then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== CACHE;
    }).map(function (name) {
      return caches.delete(name);
    }));
  }).then(function () {
    return GENERATION ? self.clients.claim() : self.registration.unregister();
  }));
});

if (GENERATION) {
  self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method !== "GET") {
      return;
    }
    var url = new URL(request.url);
    var key = url.origin + url.pathname;
    if (request.mode === "navigate") {
      if (key !== SCOPE && key !== SCOPE + "index.html") {
        return;
      }
      key = SCOPE;
    } else if (!FILES[key]) {
      return; // not this generation's (an older tab's hashed file, manifest.json): the network
    }
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(key);
    }).then(function (response) {
      return response || fetch(request);
    }));
  });
}
