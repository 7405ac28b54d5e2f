// wasmship loader: shows progress, streams the module, and reports failures on the page.
// Its settings come from data- attributes on its own <script> tag, so the file never changes
// between builds. No inline script is needed: it runs under script-src 'self' 'wasm-unsafe-eval'.
(function () {
  "use strict";
  var script = document.currentScript;
  var moduleName = (script && script.dataset.wasm) || "";
  var total = Number(script && script.dataset.wasmSize) || 0;
  // data-start="manual" (on this tag, or data-wasmship-start on <html>, which a template can
  // set): download nothing until the page calls wasmship.load().
  var manual = ((script && script.dataset.start) ||
    document.documentElement.getAttribute("data-wasmship-start")) === "manual";
  var loading = null; // the one promise load() returns, however often it is called
  var started = false; // the Go program is running: a failure now is a stop, not a failed start
  var failed = false; // the load failed: late progress must not cover the error
  var counting = false; // progress comes from counting the body's decoded bytes
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

  function report(loaded) {
    if (failed) {
      return;
    }
    // Decoded bytes against the manifest's raw size: right under any Content-Encoding.
    var fraction = total > 0 ? Math.min(loaded / total, 1) : 0;
    var percent = Math.floor(fraction * 100);
    statusElement().dataset.progress = fraction.toFixed(4);
    show("loading", "Loading… " + percent + "%", fraction);
    emit("progress", { loaded: loaded, total: total, fraction: fraction });
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
        report(loaded);
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

  function instantiate(response, imports) {
    var type = (response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (type === "application/wasm" && WebAssembly.instantiateStreaming) {
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
    console.warn(
      "wasmship: " + moduleName + " was served with Content-Type \"" + (type || "(none)") +
      "\" instead of \"application/wasm\"; streaming compilation is off and the module is " +
      "compiled only after the whole download. Configure the server to send application/wasm."
    );
    return readBody(response, true)
      .then(function (bytes) {
        return bytes || response.arrayBuffer();
      })
      .then(function (bytes) {
        return WebAssembly.instantiate(bytes, imports);
      });
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
    statusElement().hidden = false;
    report(0);
    fetch(new URL(moduleName, script.src).href)
      .then(function (response) {
        if (!response.ok) {
          // HTTP/2 and HTTP/3 have no status text: do not leave a trailing space.
          throw new Error((moduleName + ": HTTP " + response.status + " " + response.statusText).trim());
        }
        return instantiate(response, go.importObject);
      })
      .then(function (result) {
        if (!counting) {
          report(total); // the body could not be counted: jump to the end at least
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
    }
    return loading;
  }

  var api = globalThis.wasmship || {};
  api.load = load;
  globalThis.wasmship = api;

  var idle = manual && document.getElementById("wasmship-status");
  if (idle) {
    idle.dataset.state = "idle"; // nothing loads until the page calls wasmship.load()
    idle.hidden = true;
  } else if (!manual) {
    load().catch(function () {}); // the failure is on the page and in the console already
  }
})();
