// wasmship loader: shows progress, streams the module, and reports failures on the page.
// Its settings come from data- attributes on its own <script> tag, so the file never changes
// between builds. No inline script is needed: it runs under script-src 'self' 'wasm-unsafe-eval'.
(function () {
  "use strict";
  var script = document.currentScript;
  var moduleUrl = new URL(script.dataset.wasm, script.src).href;
  var moduleName = script.dataset.wasm;
  var total = Number(script.dataset.wasmSize) || 0;

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
    console.error("wasmship: " + moduleName + " failed to load:", error);
    var status = statusElement();
    status.hidden = false;
    status.setAttribute("role", "alert");
    show("error", "Could not start the application: " + (error && error.message ? error.message : error));
    emit("error", { message: String(error && error.message ? error.message : error) });
  }

  function counted(response) {
    if (!response.body || typeof TransformStream === "undefined") {
      return response;
    }
    var loaded = 0;
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
    if (typeof Go === "undefined") {
      fail(new Error("wasm_exec.js did not load, so the Go runtime is missing"));
      return;
    }
    var go = new Go();
    go.exit = function (code) {
      if (code !== 0) {
        fail(new Error("the Go program exited with code " + code));
      }
    };
    report(0);
    fetch(moduleUrl)
      .then(function (response) {
        if (!response.ok) {
          throw new Error(moduleName + ": HTTP " + response.status + " " + response.statusText);
        }
        return instantiate(response, go.importObject);
      })
      .then(function (result) {
        report(total);
        var status = statusElement();
        status.dataset.state = "done";
        status.hidden = true;
        emit("ready", { module: moduleName });
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
