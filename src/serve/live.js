// vitrine serve: live reload. Injected into served pages only, never into `vitrine build` output.
(() => {
  // Connected once the page has loaded: an event stream opened earlier holds the page's load
  // event (and the browser's spinner) open for as long as the stream lasts.
  if (document.readyState === "complete") {
    connect();
  } else {
    window.addEventListener("load", connect, { once: true });
  }

  function connect() {
    const events = new EventSource("/__vitrine/events");
    const overlayId = "vitrine-build-error";

    events.addEventListener("reload", () => location.reload());

    events.addEventListener("css", () => {
      for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
        const url = new URL(link.href, location.href);
        url.searchParams.set("vitrine-reload", Date.now().toString());
        link.href = url.href;
      }
      document.getElementById(overlayId)?.remove();
    });

    // EventSource also fires "error" for a lost connection, without data: only a MessageEvent is
    // the build's error.
    events.addEventListener("error", (event) => {
      if (!(event instanceof MessageEvent)) return;
      const { messages } = JSON.parse(event.data);
      document.getElementById(overlayId)?.remove();
      const overlay = document.createElement("div");
      overlay.id = overlayId;
      overlay.setAttribute("role", "alert");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:2rem;" +
        "background:rgba(20,20,24,.94);color:#f4f4f5;font:14px/1.5 ui-monospace,monospace";
      const title = document.createElement("h2");
      title.style.cssText = "margin:0 0 1rem;color:#fca5a5;font:600 18px/1.3 system-ui,sans-serif";
      title.textContent = "The build failed. The last good build is shown under this message.";
      const list = document.createElement("pre");
      list.style.cssText = "white-space:pre-wrap;margin:0 0 1rem";
      list.textContent = messages.join("\n");
      const hint = document.createElement("p");
      hint.style.cssText = "margin:0;color:#a1a1aa;font-family:system-ui,sans-serif";
      hint.textContent = "Fix the file and save: this message goes away and the page reloads.";
      overlay.append(title, list, hint);
      document.body.append(overlay);
    });
  }
})();
