// wasmship smoke: runs in every page before the page's own scripts. It records how the Go
// program ends (its exit code, uncaught errors, the loader's error state) and what it writes
// to stdout and stderr, and changes nothing the page or the program can see.
(function () {
  "use strict";
  var started = false;
  var exitCode = null;
  var errors = [];
  var output = { 1: "", 2: "" };
  var decoders = {};

  function describe(value) {
    if (value && value.stack) {
      return String(value.stack);
    }
    return String(value && value.message ? value.message : value);
  }

  // wasm_exec.js sets globalThis.fs (Go's stdout and stderr go through its writeSync) and
  // globalThis.Go: catch both assignments to listen in.
  function tee(fs) {
    if (!fs || typeof fs.writeSync !== "function") {
      return fs;
    }
    var write = fs.writeSync;
    fs.writeSync = function (fd, buf) {
      if (fd === 1 || fd === 2) {
        var decoder = decoders[fd] || (decoders[fd] = new TextDecoder("utf-8"));
        output[fd] += decoder.decode(buf, { stream: true });
      }
      return write.apply(this, arguments);
    };
    return fs;
  }

  function watch(Base) {
    if (typeof Base !== "function") {
      return Base;
    }
    return class extends Base {
      constructor() {
        super(...arguments);
        // The page may replace go.exit (the loader does): record the code whatever runs.
        var exit = this.exit;
        Object.defineProperty(this, "exit", {
          configurable: true,
          enumerable: true,
          get: function () {
            return function (code) {
              if (exitCode === null) {
                exitCode = code;
              }
              return exit.apply(this, arguments);
            };
          },
          set: function (replacement) {
            exit = replacement;
          },
        });
      }

      run(instance) {
        started = true;
        return super.run(instance);
      }
    };
  }

  function intercept(name, wrap) {
    var value;
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable: true,
      get: function () {
        return value;
      },
      set: function (next) {
        value = wrap(next);
      },
    });
  }

  intercept("fs", tee);
  intercept("Go", watch);
  window.addEventListener("error", function (event) {
    errors.push(describe(event.error || event.message));
  });
  window.addEventListener("unhandledrejection", function (event) {
    errors.push("unhandled rejection: " + describe(event.reason));
  });

  function loader() {
    var status = document.getElementById("wasmship-status");
    if (!status) {
      return null;
    }
    var text = status.querySelector("[data-wasmship-message]") || status;
    return { state: status.dataset.state || "", message: text.textContent || "" };
  }

  function ended() {
    var status = loader();
    return exitCode !== null || errors.length > 0 || (status !== null && status.state === "error");
  }

  Object.defineProperty(window, "__wasmshipSmoke", {
    value: Object.freeze({
      started: function () {
        return started;
      },
      ended: ended,
      snapshot: function () {
        return {
          started: started,
          exit: exitCode,
          errors: errors.slice(),
          stdout: output[1],
          stderr: output[2],
          loader: loader(),
        };
      },
    }),
  });
})();
