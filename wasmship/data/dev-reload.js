// wasmship dev: reload the page when a new build is ready, show a failed build over the page.
// Served by `wasmship dev` only (never part of a dist). Styles are set through the CSSOM, which a
// strict Content-Security-Policy allows (no inline style attribute, no <style> element).
(() => {
  "use strict";
  const script = document.currentScript;
  const served = script ? script.dataset.build || "" : "";
  const OVERLAY = "wasmship-dev-overlay";
  const BADGE = "wasmship-dev-building";

  function styled(tag, styles) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(styles)) element.style.setProperty(name, value);
    return element;
  }

  function remove(id) {
    const element = document.getElementById(id);
    if (element) element.remove();
  }

  function showFailure(error) {
    remove(OVERLAY);
    const overlay = styled("div", {
      position: "fixed", inset: "0", "z-index": "2147483647", overflow: "auto",
      background: "rgba(20, 20, 20, 0.92)", color: "#f3f3f3", padding: "1.5rem",
      font: "14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    });
    overlay.id = OVERLAY;
    overlay.setAttribute("role", "alert");
    const title = styled("h2", { margin: "0 0 1rem", color: "#ff6b6b", font: "inherit",
      "font-size": "16px", "font-weight": "bold" });
    title.textContent = "wasmship dev: the build failed";
    const output = styled("pre", { margin: "0", "white-space": "pre-wrap" });
    output.textContent = error.output || error.message;
    const note = styled("p", { margin: "1rem 0 0", color: "#aaa" });
    note.textContent = "The last good build is still running underneath. Save a fix to rebuild.";
    overlay.append(title, output, note);
    document.body.append(overlay);
  }

  function showBuilding(building) {
    remove(BADGE);
    if (!building) return;
    const badge = styled("div", {
      position: "fixed", right: "0.75rem", bottom: "0.75rem", "z-index": "2147483647",
      background: "#222", color: "#fff", padding: "0.25rem 0.6rem", "border-radius": "4px",
      font: "12px/1.5 system-ui, sans-serif", opacity: "0.85",
    });
    badge.id = BADGE;
    badge.setAttribute("role", "status");
    badge.textContent = "rebuilding…";
    document.body.append(badge);
  }

  function apply(state) {
    if (state.build && state.build !== served) {
      location.reload(); // a newer good build: the page starts it (and learns of any failure)
      return;
    }
    if (state.error) showFailure(state.error);
    else remove(OVERLAY);
    showBuilding(state.building);
  }

  const events = new EventSource("/__wasmship/events");
  events.addEventListener("state", (event) => {
    const state = JSON.parse(event.data);
    if (document.body) apply(state);
    else document.addEventListener("DOMContentLoaded", () => apply(state), { once: true });
  });
})();
