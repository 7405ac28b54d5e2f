// wasmship loader: shows progress, streams the module, and reports failures on the page.
// Its settings come from data- attributes on its own <script> tag, so the file never changes
// between builds. It needs no inline script: it runs under script-src 'self' 'wasm-unsafe-eval'.
// wasmship's page adds one (allowed by its hash), which starts the module's fetch while this
// file is still on its way; the loader takes that response over (earlyResponse).
(function () {
  "use strict";
  var script = document.currentScript;
  var moduleName = (script && script.dataset.wasm) || "";
  var total = Number(script && script.dataset.wasmSize) || 0;
  // Static hosting (wasmship build --hosting static): the tag also names the module's br and
  // gzip variants, which the loader fetches as plain files and decodes itself (hosts that never
  // send Content-Encoding); in its order of preference, the smaller first.
  var VARIANTS = [
    { attribute: "wasmBr", format: "brotli" },
    { attribute: "wasmGzip", format: "gzip" },
  ];
  // data-start="manual" (on this tag, or data-wasmship-start on <html>, which a template can
  // set): download nothing until the page calls wasmship.load().
  var manual = ((script && script.dataset.start) ||
    document.documentElement.getAttribute("data-wasmship-start")) === "manual";
  var loading = null; // the one promise load() returns, however often it is called
  var started = false; // the Go program is running: a failure now is a stop, not a failed start
  var failed = false; // the load failed: late progress must not cover the error
  var counting = false; // progress comes from counting the body's bytes as they arrive
  var stderr = ""; // the tail of the Go program's standard error, for a panic's message

  function statusElement() {
    var status = document.getElementById("wasmship-status");
    if (!status) {
      status = document.createElement("div");
      status.id = "wasmship-status";
      status.setAttribute("role", "status");
      document.body.prepend(status);
    }
    return status;
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("wasmship:" + name, { detail: detail }));
  }

  function show(state, message, fraction) {
    var status = statusElement();
    status.dataset.state = state;
    var text = status.querySelector("[data-wasmship-message]") || status;
    text.textContent = message;
    var bar = status.querySelector("progress");
    if (bar && fraction !== undefined) {
      bar.value = fraction;
    } else if (bar && state === "error") {
      bar.remove();
    }
  }

  function report(loaded, size) {
    if (failed) {
      return;
    }
    // Bytes counted against the size of what they count: the module's decoded bytes against
    // the manifest's size (right under any Content-Encoding), or a variant's bytes against its.
    var fraction = size > 0 ? Math.min(loaded / size, 1) : 0;
    var percent = Math.floor(fraction * 100);
    statusElement().dataset.progress = fraction.toFixed(4);
    show("loading", "Loading… " + percent + "%", fraction);
    emit("progress", { loaded: loaded, total: size, fraction: fraction });
  }

  function fail(error) {
    if (failed) {
      return;
    }
    failed = true;
    var message = String(error && error.message ? error.message : error);
    var heading = started ? "The application stopped: " : "Could not start the application: ";
    console.error("wasmship: " + moduleName + (started ? " stopped:" : " failed to load:"), error);
    var status = statusElement();
    status.hidden = false;
    status.setAttribute("role", "alert");
    show("error", heading + message);
    emit("error", { message: message });
  }

  function captureStderr() {
    // wasm_exec.js writes the program's output through globalThis.fs.writeSync (fd 2 is
    // stderr); keep its tail so a panic's message can be shown on the page.
    var fs = globalThis.fs;
    if (!fs || typeof fs.writeSync !== "function" || typeof TextDecoder === "undefined") {
      return;
    }
    var write = fs.writeSync;
    var decoder = new TextDecoder("utf-8");
    fs.writeSync = function (fd, buf) {
      if (fd === 2) {
        stderr = (stderr + decoder.decode(buf, { stream: true })).slice(-4096);
      }
      return write.apply(this, arguments);
    };
  }

  function exitError(code) {
    var panic = /^(panic: .*|fatal error: .*)$/m.exec(stderr);
    return new Error("the Go program exited with code " + code + (panic ? " (" + panic[1] + ")" : ""));
  }

  function readBody(response, keep) {
    // Read RESPONSE's body to the end, reporting decoded bytes; with KEEP, resolve to them.
    // Resolves to null when this browser cannot read a body in chunks.
    if (!response.body || typeof response.body.getReader !== "function") {
      return Promise.resolve(null);
    }
    counting = true;
    var reader = response.body.getReader();
    var chunks = [];
    var loaded = 0;
    function next() {
      if (failed) {
        return reader.cancel();
      }
      return reader.read().then(function (step) {
        if (step.done) {
          return;
        }
        loaded += step.value.byteLength;
        if (keep) {
          chunks.push(step.value);
        }
        report(loaded, total);
        return next();
      });
    }
    return next().then(function () {
      if (!keep) {
        return null;
      }
      var bytes = new Uint8Array(loaded);
      for (var i = 0, at = 0; i < chunks.length; at += chunks[i].byteLength, i++) {
        bytes.set(chunks[i], at);
      }
      return bytes;
    });
  }

  function decodes(format) {
    // Whether this browser's DecompressionStream reads FORMAT (Chromium's: gzip, not brotli).
    try {
      new DecompressionStream(format);
      return true;
    } catch (error) {
      return false; // no DecompressionStream at all, or not this format
    }
  }

  function preloaded(url) {
    var links = document.querySelectorAll('link[rel~="preload"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === url) {
        return true;
      }
    }
    return false;
  }

  function source() {
    // What to fetch: a variant this browser decodes (the one the page preloads, else the
    // smallest), or the module itself.
    var found = [];
    for (var i = 0; i < VARIANTS.length; i++) {
      var name = script.dataset[VARIANTS[i].attribute];
      if (name && decodes(VARIANTS[i].format)) {
        found.push({
          name: name,
          url: new URL(name, script.src).href,
          size: Number(script.dataset[VARIANTS[i].attribute + "Size"]) || 0,
          format: VARIANTS[i].format,
        });
      }
    }
    var module = { name: moduleName, url: new URL(moduleName, script.src).href, size: total };
    return found.filter(function (from) { return preloaded(from.url); })[0] || found[0] || module;
  }

  function decoded(response, from) {
    // The module as a Response the browser compiles while it streams: FROM's bytes decoded
    // here, counted as they arrive against FROM's size. A host that labelled them with a
    // Content-Encoding has had the browser decode them already: those count against the module's.
    counting = true;
    var reader = response.body.getReader();
    return reader.read().then(function (first) {
      var head = first.done ? new Uint8Array(0) : first.value;
      var plain = head.length >= 4 && head[0] === 0 && head[1] === 0x61 && head[2] === 0x73 &&
        head[3] === 0x6d; // \0asm: the module's own first bytes
      var size = plain ? total : from.size;
      var loaded = 0;
      function pass(controller, chunk) {
        loaded += chunk.byteLength;
        report(loaded, size);
        controller.enqueue(chunk);
      }
      var body = new ReadableStream({
        start: function (controller) {
          return first.done ? controller.close() : pass(controller, head);
        },
        pull: function (controller) {
          return reader.read().then(function (step) {
            return step.done ? controller.close() : pass(controller, step.value);
          });
        },
        cancel: function (reason) {
          return reader.cancel(reason);
        },
      });
      if (!plain) {
        body = body.pipeThrough(new DecompressionStream(from.format));
      }
      // Such a response has no URL, so V8 keeps no code cache for it (docs/loader.md).
      return new Response(body, { headers: { "Content-Type": "application/wasm" } });
    });
  }

  function instantiate(response, imports, count) {
    // With COUNT, progress is counted here on the response's body; without, it was already.
    var type = (response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (type === "application/wasm" && WebAssembly.instantiateStreaming) {
      if (!count) {
        return WebAssembly.instantiateStreaming(response, imports);
      }
      // Count a copy of the body, read and dropped, and give the browser the original: only a
      // response that keeps its URL gets V8's code cache (compiled code reused on the next visit).
      var copy = response.clone(); // before the browser takes the original's body
      return Promise.all([
        WebAssembly.instantiateStreaming(response, imports),
        readBody(copy, false),
      ]).then(function (both) {
        return both[0];
      });
    }
    if (type !== "application/wasm") {
      console.warn(
        "wasmship: " + moduleName + " was served with Content-Type \"" + (type || "(none)") +
        "\" instead of \"application/wasm\"; streaming compilation is off and the module is " +
        "compiled only after the whole download. Configure the server to send application/wasm."
      );
    }
    return (count ? readBody(response, true) : Promise.resolve(null))
      .then(function (bytes) {
        return bytes || response.arrayBuffer();
      })
      .then(function (bytes) {
        return WebAssembly.instantiate(bytes, imports);
      });
  }

  function earlyResponse(url) {
    // The fetch of URL the page's inline script started (globalThis.wasmship.early), once; null
    // when there is none. A plain fetch() like ours, not a preload: its response keeps V8's code
    // cache (docs/loader.md#early-fetch).
    var api = globalThis.wasmship;
    var early = api && api.early;
    if (!early || early.url !== url || !early.response) {
      return null;
    }
    delete api.early;
    return early.response;
  }

  function run(resolve, reject) {
    if (!moduleName) {
      throw new Error("the loader's <script> tag has no data-wasm attribute naming the module");
    }
    if (typeof Go === "undefined") {
      throw new Error("wasm_exec.js did not load, so the Go runtime is missing");
    }
    var go = new Go();
    go.exit = function (code) {
      if (code !== 0) {
        fail(exitError(code));
      }
    };
    captureStderr();
    var from = source();
    statusElement().hidden = false;
    report(0, from.size);
    // A plain fetch: the same URL, mode (cors) and credentials (same-origin) as the page's
    // <link rel="preload" as="fetch" crossorigin>, so the browser hands over the preloaded response.
    (earlyResponse(from.url) || fetch(from.url))
      .then(function (response) {
        if (!response.ok) {
          // HTTP/2 and HTTP/3 have no status text: do not leave a trailing space.
          throw new Error((from.name + ": HTTP " + response.status + " " + response.statusText).trim());
        }
        if (from.format) {
          return decoded(response, from).then(function (module) {
            return instantiate(module, go.importObject, false);
          });
        }
        return instantiate(response, go.importObject, true);
      })
      .then(function (result) {
        if (!counting) {
          report(total, total); // the body could not be counted: jump to the end at least
        }
        var status = statusElement();
        status.dataset.state = "done";
        status.hidden = true;
        emit("ready", { module: moduleName });
        started = true;
        var exited = go.run(result.instance);
        // main has run until it first waited: what it gave JavaScript is there now.
        resolve({ module: moduleName, instance: result.instance, go: go });
        return exited;
      })
      .catch(function (error) {
        fail(error);
        reject(error);
      });
  }

  // -- Updates: is a newer build live? Never reloads by itself (docs/loader.md#updates). --
  var running = (script && script.dataset.wasmSha256) || ""; // the module this page runs
  var workerName = (script && script.dataset.worker) || ""; // sw.js with --offline
  var interval = Number((script && script.dataset.updateInterval) ||
    document.documentElement.getAttribute("data-wasmship-update-interval")) || 0; // seconds
  var checking = null; // the check under way, if any
  var announced = ""; // the SHA-256 of the version wasmship:update last announced
  var registered = false;

  function hasWorker() {
    return Boolean(workerName) && "serviceWorker" in navigator;
  }

  function register() {
    // After the first load: the worker's install then finds the files in the HTTP cache.
    if (registered || !hasWorker()) {
      return;
    }
    registered = true;
    var url = new URL(workerName, script.src).href;
    var controlled = Boolean(navigator.serviceWorker.controller);
    // Registering a worker that is registered already asks nothing of the server: update()
    // does, so every visit learns of a new generation (or of the worker that unregisters itself).
    var registering = controlled
      ? navigator.serviceWorker.getRegistration().then(function (registration) {
        return registration && registration.update();
      })
      : navigator.serviceWorker.register(url, { updateViaCache: "none" });
    registering.catch(function (error) {
      if (navigator.onLine) {
        console.warn("wasmship: the service worker " + workerName + " was not registered:", error);
      }
    });
    // A new generation took over (installed by this page's check or by the browser's own).
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      checkForUpdate();
    });
  }

  function activated(registration) {
    // Resolves once the registration's newest worker is active (its generation is complete);
    // rejects when it never gets there (a file failed its integrity check, the network broke).
    var next = registration.installing || registration.waiting;
    if (!next) {
      return Promise.resolve();
    }
    return new Promise(function (resolve, reject) {
      function watch() {
        if (next.state === "activated") {
          resolve();
        } else if (next.state === "redundant") {
          var error = new Error("the new version could not be installed for offline use");
          error.installing = true;
          reject(error);
        }
      }
      next.addEventListener("statechange", watch);
      watch();
    });
  }

  function live(manifest, base) {
    // The facts of the page's module in MANIFEST: the module of the target that has the page.
    var targets = (manifest && manifest.targets) || [];
    for (var i = 0; i < targets.length; i++) {
      var files = targets[i].files || {};
      var module = files[targets[i].name + ".wasm"];
      if (files["index.html"] && module) {
        return {
          module: new URL(module.path, base).href,
          sha256: module.sha256,
          size: module.size,
          integrity: module.integrity,
          go: manifest.go && manifest.go.version,
          running: running,
        };
      }
    }
    return null;
  }

  // Fetch manifest.json (revalidated) and, when its module differs from the running one,
  // dispatch wasmship:update; with a service worker, once the new generation is active, so a
  // reload gets it. Resolves to the new version's facts, or null.
  function checkForUpdate() {
    if (checking || !running || !script) {
      return checking || Promise.resolve(null);
    }
    var url = new URL("manifest.json", script.src).href;
    checking = fetch(url, { cache: "no-cache" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("manifest.json: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (manifest) {
        var found = live(manifest, url);
        if (!found || found.sha256 === running || found.sha256 === announced) {
          return null;
        }
        if (!hasWorker()) {
          return found;
        }
        return navigator.serviceWorker.getRegistration().then(function (registration) {
          if (!registration) {
            return found;
          }
          return registration.update().then(function () {
            return activated(registration);
          }).then(function () {
            return found;
          });
        });
      })
      .then(function (found) {
        if (found && found.sha256 !== announced) {
          announced = found.sha256;
          emit("update", found);
        }
        return found;
      })
      .catch(function (error) {
        if (error && error.installing) {
          console.warn("wasmship: " + error.message + "; this version keeps running");
        } // else offline, or the server is away: the next check tries again
        return null;
      })
      .then(function (found) {
        checking = null;
        return found;
      });
    return checking;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      checkForUpdate();
    }
  });
  if (interval > 0) {
    setInterval(checkForUpdate, interval * 1000);
  }

  // Start the download (once: a second call returns the same promise); resolves when the Go
  // program has started, rejects (with the error shown on the page) when it could not.
  function load() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        function begin() {
          try {
            run(resolve, reject);
          } catch (error) {
            fail(error);
            reject(error);
          }
        }
        if (document.readyState === "loading") {
          document.addEventListener("DOMContentLoaded", begin);
        } else {
          begin();
        }
      });
      loading.then(register, register);
    }
    return loading;
  }

  var api = globalThis.wasmship || {};
  api.load = load;
  api.checkForUpdate = checkForUpdate;
  globalThis.wasmship = api;

  if (manual) {
    globalThis.addEventListener("load", register); // nothing to wait for: no load has begun
  }
  var idle = manual && document.getElementById("wasmship-status");
  if (idle) {
    idle.dataset.state = "idle"; // nothing loads until the page calls wasmship.load()
    idle.hidden = true;
  } else if (!manual) {
    load().catch(function () {}); // the failure is on the page and in the console already
  }
})();
