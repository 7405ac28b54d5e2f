// wasmship loader: shows progress, streams the module, and reports failures on the page.
// Its settings come from data- attributes on its own <script> tag, so the file never changes
// between builds. No inline script is needed: it runs under script-src 'self' 'wasm-unsafe-eval'.
(function () {
  "use strict";
  var script = document.currentScript;
  var moduleName = (script && script.dataset.wasm) || "";
  var total = Number(script && script.dataset.wasmSize) || 0;
  var started = false; // the Go program is running: a failure now is a stop, not a failed start
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
    // Decoded bytes against the manifest's raw size: right under any Content-Encoding.
    var fraction = total > 0 ? Math.min(loaded / total, 1) : 0;
    var percent = Math.floor(fraction * 100);
    statusElement().dataset.progress = fraction.toFixed(4);
    show("loading", "Loading… " + percent + "%", fraction);
    emit("progress", { loaded: loaded, total: total, fraction: fraction });
  }

  function fail(error) {
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

  function counted(response) {
    if (!response.body || typeof TransformStream === "undefined") {
      return response;
    }
    var loaded = 0;
    counting = true;
    var body = response.body.pipeThrough(new TransformStream({
      transform: function (chunk, controller) {
        loaded += chunk.byteLength;
        report(loaded);
        controller.enqueue(chunk);
      },
    }));
    return new Response(body, { status: response.status, headers: response.headers });
  }

  function instantiate(response, imports) {
    var type = (response.headers.get("Content-Type") || "").split(";")[0].trim().toLowerCase();
    if (type === "application/wasm" && WebAssembly.instantiateStreaming) {
      return WebAssembly.instantiateStreaming(counted(response), imports);
    }
    console.warn(
      "wasmship: " + moduleName + " was served with Content-Type \"" + (type || "(none)") +
      "\" instead of \"application/wasm\"; streaming compilation is off and the module is " +
      "compiled only after the whole download. Configure the server to send application/wasm."
    );
    return counted(response).arrayBuffer().then(function (bytes) {
      return WebAssembly.instantiate(bytes, imports);
    });
  }

  function start() {
    if (!moduleName) {
      fail(new Error("the loader's <script> tag has no data-wasm attribute naming the module"));
      return;
    }
    if (typeof Go === "undefined") {
      fail(new Error("wasm_exec.js did not load, so the Go runtime is missing"));
      return;
    }
    var go = new Go();
    go.exit = function (code) {
      if (code !== 0) {
        fail(exitError(code));
      }
    };
    captureStderr();
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
        return go.run(result.instance);
      })
      .catch(fail);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
