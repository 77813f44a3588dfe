/*
 * vitrine viewer: pan and zoom over Deep Zoom (DZI) pyramids, z-stacks and plain images.
 * Plain JavaScript, no dependencies; every URL it fetches is relative to the page, so a
 * private page's tiles are gated together with the page.
 *
 * Markup: `partials/viewer.html` renders a `.viewer` root whose `data-viewer` attribute holds
 * `{slices: [{dzi, tiles: {size, overlap, format}, width, height, fallback: {src, width, height}}],
 * voxel_size_nm, private, slice}` (without `tiles`, the geometry is read from the `.dzi`; `slice`
 * is the one shown first, the descriptor's `preview_slice` or the middle one).
 * Without JavaScript the root shows that slice's fallback image.
 *
 * Overlay API (annotations and other layers):
 * - `root.querySelector("svg.viewer-overlay")` has `viewBox="0 0 W H"` in full-resolution image
 *   pixels of the first slice; the viewer keeps it sized and positioned exactly over the image.
 *   It ignores pointer events so dragging still pans; give a child `pointer-events: auto` to make
 *   it interactive. Stroke widths scale with zoom unless `vector-effect: non-scaling-stroke`.
 * - After every view change (and once at start) the root receives a `vitrine:view` CustomEvent
 *   with `detail = {x, y, zoom, slice, scale}`: `x, y` the image pixel at the viewer's centre,
 *   `zoom` the magnification relative to "whole image fits" (1), `slice` the 0-based slice
 *   index, `scale` CSS pixels per image pixel.
 * - `root.vitrine` is `{view(), setView({x, y, zoom, slice}), svg, setPainter(p), redraw()}` for
 *   scripted control; the root then receives `vitrine:ready`. `setPainter` hands drawing to
 *   another painter (`assets/display.js`: WebGL2 windowing of raw values): `{canvas, packed,
 *   clear(), draw(img, x, y, w, h, smooth, packed, slice), forget(img)}` in device pixels; with
 *   `packed` set, slices whose `display.raw` names a lossless pyramid are drawn from it.
 * The view lives in the URL fragment as `#v=x,y,zoom,slice`; other `&`-separated fragment
 * parameters are kept, so other scripts can store their own state beside it. Links marked
 * `data-carry-view` (the 3D view's) get the current view as their fragment, so they open at
 * the same place.
 */
(() => {
  "use strict";

  const MAX_TILES = 600; // decoded tiles kept; ~150 MB of 256-px RGBA at worst
  const MAX_INFLIGHT = 8;
  const MAX_SCALE = 32; // CSS px per image px: far enough to see single pixels as blocks
  const MIN_ZOOM = 0.5;
  const EASE_MS = 90; // time constant of the zoom/pan easing
  const BAR_PX = 120; // widest scale bar
  const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  /** Parses a DZI descriptor; namespace-agnostic so DZIs from any tool are accepted. */
  function parseDzi(text) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    const image = doc.getElementsByTagNameNS("*", "Image")[0];
    const size = doc.getElementsByTagNameNS("*", "Size")[0];
    if (!image || !size) throw new Error("not a DZI descriptor");
    const num = (el, name) => {
      const v = Number(el.getAttribute(name));
      if (!Number.isFinite(v) || v < 0) throw new Error(`bad DZI attribute ${name}`);
      return v;
    };
    return {
      tile: num(image, "TileSize"),
      overlap: num(image, "Overlap"),
      format: image.getAttribute("Format") || "jpg",
      width: num(size, "Width"),
      height: num(size, "Height"),
    };
  }

  /** One slice's pyramid geometry, as the DZI format defines it. */
  class Pyramid {
    constructor(url, d) {
      Object.assign(this, d);
      this.base = url.replace(/\.[^./]*$/, "_files/");
      this.max = Math.ceil(Math.log2(Math.max(d.width, d.height, 1)));
      // The coarsest level worth drawing: the whole image in one tile.
      this.min = clamp(this.max - Math.ceil(Math.log2(Math.max(d.width, d.height) / d.tile)), 0, this.max);
    }
    /** Full-resolution pixels per level pixel. */
    factor(level) {
      return 2 ** (this.max - level);
    }
    grid(level) {
      const f = this.factor(level);
      const w = Math.ceil(this.width / f), h = Math.ceil(this.height / f);
      return { w, h, cols: Math.ceil(w / this.tile), rows: Math.ceil(h / this.tile) };
    }
    url(level, col, row) {
      return `${this.base}${level}/${col}_${row}.${this.format}`;
    }
  }

  function niceLength(max) {
    const p = 10 ** Math.floor(Math.log10(max));
    const m = max / p;
    return (m >= 5 ? 5 : m >= 2 ? 2 : 1) * p;
  }

  const num3 = (v) => String(+v.toPrecision(3));

  function formatNm(nm) {
    if (nm >= 1e6) return `${num3(nm / 1e6)} mm`;
    if (nm >= 1e3) return `${num3(nm / 1e3)} µm`;
    return `${num3(nm)} nm`;
  }

  /** Reads `v=x,y,zoom,slice` out of a fragment; null when absent or malformed. */
  function parseFragment(hash) {
    for (const part of hash.replace(/^#/, "").split("&")) {
      if (!part.startsWith("v=")) continue;
      const v = part.slice(2).split(",").map(Number);
      if (v.length >= 3 && v.slice(0, 3).every(Number.isFinite) && v[2] > 0) {
        return { x: v[0], y: v[1], zoom: v[2], slice: Number.isInteger(v[3]) ? v[3] : 0 };
      }
    }
    return null;
  }

  class Viewer {
    constructor(root) {
      this.root = root;
      const cfg = JSON.parse(root.dataset.viewer);
      this.slices = cfg.slices;
      this.voxel = Array.isArray(cfg.voxel_size_nm) && cfg.voxel_size_nm[0] > 0 ? cfg.voxel_size_nm : null;
      this.private = !!cfg.private || root.hasAttribute("data-private");
      this.W = this.slices[0].width;
      this.H = this.slices[0].height;
      this.pyramids = []; // per slice: undefined (not asked), Promise, Pyramid or null (no pyramid)
      this.images = []; // per slice: fallback Image
      this.tiles = new Map(); // "slice/level/col_row" -> {img, ok, failed}
      this.inflight = 0;
      this.want = [];
      const first = Number.isInteger(cfg.slice) ? Math.min(Math.max(cfg.slice, 0), this.slices.length - 1) : 0;
      this.view = { x: this.W / 2, y: this.H / 2, zoom: 1, slice: first };
      this.target = null; // easing target {x, y, zoom, anchor}
      this.pointers = new Map();
      this.painted = false;
      this.last = "";
      this.userMoved = false;
      this.buildDom();
      const frag = parseFragment(location.hash);
      if (frag) this.setView(frag);
      this.setSlice(this.view.slice, false);
      this.bind();
      root.classList.add("viewer-ready");
      root.vitrine = {
        view: () => this.detail(),
        setView: (v) => this.setView(v),
        svg: this.svg,
        setPainter: (p) => this.setPainter(p),
        redraw: () => this.request(),
      };
      this.resize();
      root.dispatchEvent(new Event("vitrine:ready"));
    }

    /** Draws with `p` from now on, from the pyramids it wants (see the head of this file). */
    setPainter(p) {
      p.canvas.className = "viewer-canvas";
      this.canvas.replaceWith(p.canvas);
      this.canvas = p.canvas;
      this.painter = p;
      this.pyramids = [];
      this.tiles = new Map();
      this.want = [];
      this.setSlice(this.view.slice, false);
      this.resize();
    }

    /* ---------- DOM ---------- */

    buildDom() {
      const q = (s) => this.root.querySelector(s);
      this.stage = q(".viewer-stage");
      // The stage takes the image's shape (capped in viewer.css), so a landscape image on a
      // phone is not a tall black box; set through the CSSOM, which a strict CSP allows.
      this.stage.style.setProperty("--viewer-aspect", `${this.W} / ${this.H}`);
      this.fallback = q(".viewer-fallback");
      this.fallback.decode().then(() => {
        this.fallback.ready = true;
        this.request();
      }, () => {});
      this.svg = q("svg.viewer-overlay");
      const canvas = document.createElement("canvas");
      const ctx = canvas.getContext("2d");
      this.painter = {
        canvas,
        clear: () => ctx.clearRect(0, 0, canvas.width, canvas.height),
        draw(img, x, y, w, h, smooth) {
          ctx.imageSmoothingEnabled = smooth;
          ctx.drawImage(img, x, y, w, h);
        },
        forget() {},
      };
      this.canvas = canvas;
      canvas.className = "viewer-canvas";
      this.stage.prepend(canvas);
      this.stage.tabIndex = 0;
      this.stage.setAttribute("role", "application");
      this.stage.setAttribute("aria-label", this.stage.dataset.label || "Image viewer");
      const help = q(".viewer-help");
      help.hidden = false;
      this.stage.setAttribute("aria-describedby", help.id);
      this.controls = q(".viewer-controls");
      this.controls.hidden = false;
      this.bar = q(".viewer-scalebar");
      this.bar.hidden = false;
      this.barLine = this.bar.querySelector(".viewer-scalebar-line");
      this.barText = this.bar.querySelector(".viewer-scalebar-text");
      this.status = q(".viewer-status");
      this.range = q(".viewer-slice");
      this.sliceText = q(".viewer-slice-value");
      this.bright = q(".viewer-brightness");
      this.contrast = q(".viewer-contrast");
      this.fsButton = q('[data-action="fullscreen"]');
      if (!document.fullscreenEnabled) this.fsButton.hidden = true;
    }

    bind() {
      const s = this.stage;
      new ResizeObserver(() => this.resize()).observe(s);
      s.addEventListener("pointerdown", (e) => this.pointerDown(e));
      s.addEventListener("pointermove", (e) => this.pointerMove(e));
      for (const t of ["pointerup", "pointercancel"]) s.addEventListener(t, (e) => this.pointerUp(e));
      s.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
      s.addEventListener("dblclick", (e) => {
        const p = this.local(e);
        this.zoomAt(p.x, p.y, e.shiftKey ? 0.5 : 2, true);
      });
      s.addEventListener("keydown", (e) => this.key(e));
      this.controls.addEventListener("click", (e) => {
        const b = e.target.closest("button[data-action]");
        if (b) this.action(b.dataset.action);
      });
      if (this.range) this.range.addEventListener("input", () => this.setSlice(+this.range.value, true));
      for (const r of [this.bright, this.contrast]) r.addEventListener("input", () => this.applyFilter());
      document.addEventListener("fullscreenchange", () => {
        const on = document.fullscreenElement === this.root;
        this.fsButton.setAttribute("aria-pressed", String(on));
        this.fsButton.textContent = on ? "Exit full screen" : "Full screen";
      });
      addEventListener("hashchange", () => {
        const v = parseFragment(location.hash);
        if (v) this.setView(v);
      });
      // Only writes the fragment after the reader moved, so plain visits keep a clean URL.
      this.root.addEventListener("vitrine:view", () => {
        for (const a of document.querySelectorAll("a[data-carry-view]")) a.hash = this.fragment();
        if (!this.userMoved) return;
        clearTimeout(this.hashTimer);
        this.hashTimer = setTimeout(() => this.writeFragment(), 250);
      });
    }

    action(name) {
      const c = this.center();
      if (name === "zoom-in") this.zoomAt(c.x, c.y, 2, true);
      else if (name === "zoom-out") this.zoomAt(c.x, c.y, 0.5, true);
      else if (name === "reset") this.ease({ x: this.W / 2, y: this.H / 2, zoom: 1 });
      else if (name === "fullscreen") this.toggleFullscreen();
      else if (name === "copy") this.copyLink();
      else if (name === "reset-image") {
        this.bright.value = this.contrast.value = 100;
        this.applyFilter();
      }
    }

    applyFilter() {
      const b = this.bright.value, c = this.contrast.value;
      this.canvas.style.filter = b == 100 && c == 100 ? "" : `brightness(${b}%) contrast(${c}%)`;
      for (const r of [this.bright, this.contrast]) {
        r.setAttribute("aria-valuetext", `${r.value}%`);
        r.nextElementSibling.textContent = `${r.value}%`;
      }
    }

    toggleFullscreen() {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.root.requestFullscreen().then(() => this.stage.focus(), () => {});
    }

    say(text) {
      this.status.textContent = text;
    }

    fragment() {
      const v = this.view;
      return `v=${+v.x.toFixed(1)},${+v.y.toFixed(1)},${+v.zoom.toPrecision(4)},${v.slice}`;
    }

    writeFragment() {
      const rest = location.hash.replace(/^#/, "").split("&").filter((p) => p && !p.startsWith("v="));
      history.replaceState(history.state, "", "#" + [this.fragment(), ...rest].join("&"));
    }

    async copyLink() {
      this.writeFragment();
      // A private page's address opens nothing for anyone without their own share link, so
      // only the view is copied, with the reason why.
      const text = this.private ? "#" + this.fragment() : location.href;
      const done = this.private
        ? `This dataset is private: recipients need their own share link from the dataset's owner. Copied only this view (${text}); add it to the end of their share link to open the same view.`
        : "Link to this view copied.";
      try {
        await navigator.clipboard.writeText(text);
        this.say(done);
      } catch {
        this.say(
          (this.private ? "This dataset is private: recipients need their own share link. " : "") +
            `Copying is blocked here; copy this by hand: ${text}`
        );
      }
    }

    /* ---------- view state ---------- */

    center() {
      return { x: this.vw / 2, y: this.vh / 2 };
    }

    fit() {
      return Math.min(this.vw / this.W, this.vh / this.H) || 1;
    }

    maxZoom() {
      return Math.max(4, MAX_SCALE / this.fit());
    }

    scale(zoom = this.view.zoom) {
      return this.fit() * zoom;
    }

    clampView(v) {
      v.zoom = clamp(v.zoom, MIN_ZOOM, this.maxZoom());
      v.x = clamp(v.x, 0, this.W);
      v.y = clamp(v.y, 0, this.H);
      return v;
    }

    detail() {
      const { x, y, zoom, slice } = this.view;
      return { x, y, zoom, slice, scale: this.scale() };
    }

    setView(v) {
      this.target = null;
      const n = this.view;
      for (const k of ["x", "y", "zoom"]) if (Number.isFinite(v[k])) n[k] = v[k];
      if (this.vw) this.clampView(n);
      if (Number.isInteger(v.slice)) this.setSlice(v.slice, false);
      this.request();
    }

    setSlice(i, user) {
      i = clamp(i, 0, this.slices.length - 1);
      if (user) this.userMoved = true;
      this.view.slice = i;
      if (this.range) {
        this.range.value = i;
        const z = this.voxel && this.voxel[2] > 0 ? ` (z = ${formatNm(i * this.voxel[2])})` : "";
        const text = `${i + 1} of ${this.slices.length}${z}`;
        this.range.setAttribute("aria-valuetext", `Slice ${text}`);
        this.sliceText.textContent = text;
      }
      this.loadSlice(i);
      this.request();
    }

    /** Zooms by `factor` keeping the image point under screen point (sx, sy) in place. */
    zoomAt(sx, sy, factor, smooth) {
      this.userMoved = true;
      const from = this.target || this.view;
      const zoom = clamp(from.zoom * factor, MIN_ZOOM, this.maxZoom());
      const s = this.scale();
      const ix = this.view.x + (sx - this.vw / 2) / s;
      const iy = this.view.y + (sy - this.vh / 2) / s;
      const ts = this.fit() * zoom;
      const t = { x: ix - (sx - this.vw / 2) / ts, y: iy - (sy - this.vh / 2) / ts, zoom };
      this.clampView(t);
      t.anchor = { sx, sy, ix, iy };
      smooth ? this.ease(t) : this.jump(t);
    }

    /** Pans by screen pixels. */
    pan(dx, dy, smooth) {
      this.userMoved = true;
      const from = this.target || this.view;
      const s = this.fit() * from.zoom;
      const t = this.clampView({ x: from.x + dx / s, y: from.y + dy / s, zoom: from.zoom });
      smooth ? this.ease(t) : this.jump(t);
    }

    jump(t) {
      this.target = null;
      Object.assign(this.view, this.clampView({ x: t.x, y: t.y, zoom: t.zoom }));
      this.request();
    }

    ease(t) {
      this.userMoved = true;
      if (reducedMotion.matches) return this.jump(t);
      this.target = t;
      this.stamp = performance.now();
      this.request();
    }

    /** Advances the easing by one frame: log-linear in zoom, anchored while zooming. */
    step(now) {
      const t = this.target;
      if (!t) return;
      // rAF stamps the frame start, which can precede the event that began the easing.
      const k = 1 - Math.exp(-Math.max(0, now - this.stamp) / EASE_MS);
      this.stamp = now;
      const v = this.view;
      const lz = Math.log(v.zoom), tz = Math.log(t.zoom);
      v.zoom = Math.exp(lz + (tz - lz) * k);
      const zoomDone = Math.abs(tz - Math.log(v.zoom)) < 1e-3;
      if (t.anchor && !zoomDone) {
        const s = this.scale();
        v.x = t.anchor.ix - (t.anchor.sx - this.vw / 2) / s;
        v.y = t.anchor.iy - (t.anchor.sy - this.vh / 2) / s;
        this.clampView(v);
      } else {
        v.x += (t.x - v.x) * k;
        v.y += (t.y - v.y) * k;
      }
      const s = this.scale();
      if (zoomDone && Math.hypot(t.x - v.x, t.y - v.y) * s < 0.25) {
        Object.assign(v, { x: t.x, y: t.y, zoom: t.zoom });
        this.target = null;
      }
    }

    /* ---------- input ---------- */

    local(e) {
      const r = this.stage.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    }

    pointerDown(e) {
      if (e.pointerType === "mouse" && e.button !== 0) return;
      this.pointers.set(e.pointerId, this.local(e));
      this.target = null;
      this.stage.classList.add("viewer-dragging");
    }

    pointerMove(e) {
      const prev = this.pointers.get(e.pointerId);
      if (!prev) return;
      // Captured on the first move rather than on press, so a click on an interactive overlay
      // element still reaches it.
      if (!this.stage.hasPointerCapture(e.pointerId)) this.stage.setPointerCapture(e.pointerId);
      const pts = [...this.pointers.values()];
      const before = pts.length > 1 ? this.pinch(pts) : null;
      this.pointers.set(e.pointerId, this.local(e));
      if (before) {
        const after = this.pinch([...this.pointers.values()]);
        this.zoomAt(before.x, before.y, after.d / before.d, false);
        this.pan(before.x - after.x, before.y - after.y, false);
      } else {
        const p = this.pointers.get(e.pointerId);
        this.pan(prev.x - p.x, prev.y - p.y, false);
      }
    }

    pinch([a, b]) {
      return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, d: Math.hypot(a.x - b.x, a.y - b.y) || 1 };
    }

    pointerUp(e) {
      this.pointers.delete(e.pointerId);
      if (!this.pointers.size) this.stage.classList.remove("viewer-dragging");
    }

    wheel(e) {
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? this.vh : 1;
      // Trackpad pinches arrive as ctrl+wheel with small deltas: make them as responsive.
      const rate = e.ctrlKey ? 0.01 : 0.0025;
      const p = this.local(e);
      this.zoomAt(p.x, p.y, Math.exp(-e.deltaY * unit * rate), !e.ctrlKey);
    }

    key(e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const step = (e.shiftKey ? 0.5 : 0.15) * Math.min(this.vw, this.vh);
      const c = this.center();
      const keys = {
        ArrowLeft: () => this.pan(-step, 0, true),
        ArrowRight: () => this.pan(step, 0, true),
        ArrowUp: () => this.pan(0, -step, true),
        ArrowDown: () => this.pan(0, step, true),
        "+": () => this.zoomAt(c.x, c.y, 1.5, true),
        "=": () => this.zoomAt(c.x, c.y, 1.5, true),
        "-": () => this.zoomAt(c.x, c.y, 1 / 1.5, true),
        _: () => this.zoomAt(c.x, c.y, 1 / 1.5, true),
        0: () => this.action("reset"),
        PageUp: () => this.setSlice(this.view.slice - 1, true),
        "[": () => this.setSlice(this.view.slice - 1, true),
        PageDown: () => this.setSlice(this.view.slice + 1, true),
        "]": () => this.setSlice(this.view.slice + 1, true),
        Home: () => this.setSlice(0, true),
        End: () => this.setSlice(this.slices.length - 1, true),
        f: () => this.toggleFullscreen(),
      };
      const run = keys[e.key];
      if (!run) return;
      e.preventDefault();
      run();
    }

    /* ---------- loading ---------- */

    /** Starts fetching slice i's descriptor (or its fallback image when it has no pyramid). */
    loadSlice(i) {
      if (i < 0 || i >= this.slices.length || this.pyramids[i] !== undefined) return;
      let s = this.slices[i];
      const raw = this.painter.packed && s.display && s.display.raw;
      // The lossless pyramid has the 8-bit one's geometry, in PNG.
      if (raw) s = { ...s, dzi: raw, tiles: s.tiles && { ...s.tiles, format: "png" } };
      if (!s.dzi) {
        this.pyramids[i] = null;
        this.loadFallback(i);
        return;
      }
      if (s.tiles) {
        // The page states the tile geometry the .dzi holds: the first tiles need no round trip.
        const { size, overlap, format } = s.tiles;
        const geometry = { tile: size, overlap, format, width: s.width, height: s.height };
        this.pyramids[i] = new Pyramid(new URL(s.dzi, document.baseURI).href, geometry);
        this.pyramids[i].packed = !!raw;
        return;
      }
      this.pyramids[i] = fetch(s.dzi)
        .then((r) => {
          if (!r.ok) throw new Error(`${s.dzi}: HTTP ${r.status}`);
          return r.text();
        })
        .then((t) => {
          this.pyramids[i] = new Pyramid(new URL(s.dzi, document.baseURI).href, parseDzi(t));
          this.pyramids[i].packed = !!raw;
          // Drawing now rather than next frame asks for the first tiles a frame sooner.
          if (this.vw) this.draw();
        })
        .catch((err) => {
          // Stays usable: the slice is shown from its fallback image instead.
          console.warn("vitrine viewer:", err.message);
          this.pyramids[i] = null;
          this.loadFallback(i);
        });
    }

    loadFallback(i) {
      if (this.images[i]) return;
      const src = this.slices[i].fallback && this.slices[i].fallback.src;
      if (!src) return;
      const img = new Image();
      img.src = src;
      img.decode().then(() => {
        img.ready = true;
        if (i === this.view.slice) this.request();
      }, () => {});
      this.images[i] = img;
    }

    pump() {
      while (this.inflight < MAX_INFLIGHT && this.want.length) {
        const w = this.want.shift();
        if (this.tiles.has(w.key)) continue;
        const t = { img: new Image(), ok: false, failed: false };
        this.tiles.set(w.key, t);
        this.inflight++;
        // Script-made images are low priority while the page loads; the view's own tiles are not.
        t.img.fetchPriority = w.slice === this.view.slice ? "high" : "low";
        t.img.src = w.url;
        // decode() decodes off the main thread, so drawing the tile later never stalls a frame.
        const done = (loaded) => {
          this.inflight--;
          t.ok = loaded;
          t.failed = !loaded;
          // The very first tile is drawn at once rather than next frame: it is what readers wait for.
          if (w.slice !== this.view.slice) this.pump();
          else if (!this.painted && loaded) this.draw();
          else this.request();
        };
        t.img.decode().then(() => done(true), () => done(false));
      }
      this.evict();
    }

    evict() {
      if (this.tiles.size <= MAX_TILES) return;
      for (const [key, t] of this.tiles) {
        if (this.tiles.size <= MAX_TILES) break;
        if (!t.ok) continue; // failed tiles stay, so a missing tile is asked for once
        this.tiles.delete(key);
        this.painter.forget(t.img);
      }
    }

    /* ---------- drawing ---------- */

    resize() {
      const r = this.stage.getBoundingClientRect();
      this.vw = r.width;
      this.vh = r.height;
      this.dpr = devicePixelRatio || 1;
      this.canvas.width = Math.round(r.width * this.dpr);
      this.canvas.height = Math.round(r.height * this.dpr);
      this.clampView(this.view);
      this.request();
    }

    request() {
      if (this.frame || !this.vw) return;
      this.frame = requestAnimationFrame((now) => {
        this.frame = 0;
        this.step(now);
        this.draw();
        if (this.target) this.request();
      });
    }

    /** The visible rectangle in full-resolution image pixels. */
    visible() {
      const s = this.scale(), v = this.view;
      const hw = this.vw / 2 / s, hh = this.vh / 2 / s;
      return { x0: v.x - hw, y0: v.y - hh, x1: v.x + hw, y1: v.y + hh };
    }

    /** The finest level the current scale needs (one level pixel per device pixel or more). */
    level(p) {
      const need = Math.log2(this.scale() * this.dpr);
      return clamp(Math.ceil(p.max + need - 0.1), p.min, p.max);
    }

    /** The columns and rows of pyramid p's tiles at level that the view shows. */
    span(p, level, vis) {
      const f = p.factor(level), g = p.grid(level), n = p.tile;
      const c0 = clamp(Math.floor(vis.x0 / f / n), 0, g.cols - 1);
      const c1 = clamp(Math.floor(vis.x1 / f / n), 0, g.cols - 1);
      const r0 = clamp(Math.floor(vis.y0 / f / n), 0, g.rows - 1);
      const r1 = clamp(Math.floor(vis.y1 / f / n), 0, g.rows - 1);
      return { c0, c1, r0, r1 };
    }

    /** Whether slice i's loaded tiles at level `top` hide the view within the level `level`
     * tile (c, r) (everything in view when c is null). Hidden tiles are not drawn: software
     * GL pays for every pixel of every layer (bench/display-range.mjs). */
    covered(p, i, top, vis, level, c, r) {
      const s = this.span(p, top, vis), k = 2 ** (top - level);
      const c0 = c === null ? s.c0 : Math.max(s.c0, c * k), c1 = c === null ? s.c1 : Math.min(s.c1, c * k + k - 1);
      const r0 = c === null ? s.r0 : Math.max(s.r0, r * k), r1 = c === null ? s.r1 : Math.min(s.r1, r * k + k - 1);
      for (let y = r0; y <= r1; y++) {
        for (let x = c0; x <= c1; x++) {
          const t = this.tiles.get(`${i}/${top}/${x}_${y}`);
          if (!t || !t.ok) return false;
        }
      }
      return true;
    }

    /** Visible tiles of pyramid p at level, nearest the centre first. */
    tilesAt(p, level, vis) {
      const { c0, c1, r0, r1 } = this.span(p, level, vis);
      const out = [];
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) out.push([c, r]);
      const cc = (c0 + c1) / 2, cr = (r0 + r1) / 2;
      return out.sort((a, b) => Math.hypot(a[0] - cc, a[1] - cr) - Math.hypot(b[0] - cc, b[1] - cr));
    }

    draw() {
      const { painter, dpr, view } = this;
      const s = this.scale() * dpr;
      const ox = (this.vw / 2) * dpr - view.x * s;
      const oy = (this.vh / 2) * dpr - view.y * s;
      painter.clear();
      // Past 1:1 at full resolution, show real pixels as blocks rather than blurring them.
      const smooth = s < 1;
      const want = [];
      const vis = this.visible();
      const i = view.slice;
      const p = this.pyramids[i];
      const rect = (x, y, w, h) => {
        const x0 = Math.round(ox + x * s), y0 = Math.round(oy + y * s);
        return [x0, y0, Math.round(ox + (x + w) * s) - x0, Math.round(oy + (y + h) * s) - y0];
      };
      // The page's own image, once decoded, is a free backdrop until the tiles arrive.
      const top = p instanceof Pyramid ? this.level(p) : 0;
      if (i === 0 && this.fallback.ready && !(p instanceof Pyramid && this.covered(p, i, top, vis, 0, null))) {
        painter.draw(this.fallback, ...rect(0, 0, this.slices[0].width, this.slices[0].height), smooth, false, 0);
      }
      if (p instanceof Pyramid) {
        for (let level = p.min; level <= top; level++) {
          const f = p.factor(level);
          for (const [c, r] of this.tilesAt(p, level, vis)) {
            const key = `${i}/${level}/${c}_${r}`;
            const t = this.tiles.get(key);
            if (t && t.ok) {
              // Tiles carry `overlap` extra pixels on inner edges; drawing them whole hides seams.
              const x = (c * p.tile - (c ? p.overlap : 0)) * f;
              const y = (r * p.tile - (r ? p.overlap : 0)) * f;
              const box = rect(x, y, t.img.naturalWidth * f, t.img.naturalHeight * f);
              if (level === top || !this.covered(p, i, top, vis, level, c, r)) painter.draw(t.img, ...box, smooth, p.packed, i);
              this.tiles.delete(key);
              this.tiles.set(key, t); // most recently used last, so eviction takes the oldest
              if (!this.painted) {
                this.painted = true;
                performance.mark("vitrine:first-tile");
              }
            } else if (!t && (level === top || level === p.min)) {
              want.push({ key, slice: i, url: p.url(level, c, r), rank: level === p.min ? 0 : 1 });
            }
          }
        }
        want.sort((a, b) => a.rank - b.rank);
        this.preloadNeighbours(top, vis, want);
      } else {
        const img = this.images[i];
        if (img && img.ready) {
          const sl = this.slices[i];
          painter.draw(img, ...rect(0, 0, sl.width, sl.height), smooth, false, i);
        }
      }
      this.want = want;
      this.pump();
      this.place();
    }

    /** Queues the neighbouring slices' tiles for the current view, behind the current slice's. */
    preloadNeighbours(level, vis, want) {
      for (const j of [this.view.slice + 1, this.view.slice - 1]) {
        this.loadSlice(j);
        const q = this.pyramids[j];
        if (!(q instanceof Pyramid)) continue;
        const l = clamp(level, q.min, q.max);
        for (const [c, r] of this.tilesAt(q, l, vis)) {
          const key = `${j}/${l}/${c}_${r}`;
          if (!this.tiles.has(key)) want.push({ key, slice: j, url: q.url(l, c, r) });
        }
      }
    }

    /** Keeps the overlay and the scale bar in step with the view and announces the change. */
    place() {
      const s = this.scale(), v = this.view;
      const st = this.svg.style;
      st.width = `${this.W * s}px`;
      st.height = `${this.H * s}px`;
      st.transform = `translate(${this.vw / 2 - v.x * s}px, ${this.vh / 2 - v.y * s}px)`;
      this.scaleBar(s);
      const d = this.detail();
      const sig = [d.x, d.y, d.zoom, d.slice, d.scale].join();
      if (sig === this.last) return;
      this.last = sig;
      this.root.dispatchEvent(new CustomEvent("vitrine:view", { detail: d }));
    }

    scaleBar(s) {
      const perPx = this.voxel ? this.voxel[0] / s : 1 / s; // nm (or image px) per CSS px
      const len = niceLength(BAR_PX * perPx);
      this.barLine.style.width = `${len / perPx}px`;
      this.barText.textContent = this.voxel ? formatNm(len) : `${num3(len)} px`;
    }
  }

  // The script is loaded `async` right after the viewer's markup, so it can start at once;
  // viewers parsed later (a theme that moved the script up) start on DOMContentLoaded.
  const start = () => {
    for (const root of document.querySelectorAll(".viewer[data-viewer]")) {
      if (root.vitrineStarted) continue;
      root.vitrineStarted = true;
      try {
        new Viewer(root);
      } catch (err) {
        // The fallback image stays in place, so the page still shows the data.
        console.warn("vitrine viewer disabled:", err);
      }
    }
  };
  start();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
})();
