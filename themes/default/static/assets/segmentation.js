/*
 * vitrine segmentation overlay: draws a layer's label images over the dataset viewer.
 *
 * Markup (layer.html): a `section.segmentation[data-segmentation][data-viewer]`; its
 * `data-segmentation` is `{tile, segments, slices: [{tiles, width, height, levels, bytes}]}`
 * with URLs relative to the page (so a private page's tiles are gated with it), `data-viewer`
 * the viewer root's id. Inside: the opacity range, the hover readout `.seg-hover`, the search
 * field and the list `.seg-list`, filled here.
 *
 * Tiles (written by src/media/labels.rs, which explains the choices): `<tiles><level>/<col>_<row>.bin`,
 * the ids of a tile as little-endian unsigned integers of `bytes` each, zlib-compressed and
 * inflated here with DecompressionStream, so ids never pass through an image decoder or a
 * canvas and arrive exactly. Colours come from segments.json (made by src/render/layer.rs),
 * never computed here, so they are the same on every page and build.
 *
 * Drawing: a canvas over the viewer's, redrawn on every `vitrine:view` event at the level
 * whose pixels are about one device pixel (coarser loaded tiles stand in while finer ones
 * load), without smoothing. The id under the pointer is always read from the full-resolution
 * tile. A click on the image (or Enter on it: the segment at the centre) selects a segment,
 * which is drawn at full strength over the others; the selection lives in the URL fragment
 * as `seg=<id>` beside the viewer's `v=`.
 */
(() => {
  "use strict";

  const MAX_TILES = 400; // decoded tiles kept (ids and coloured canvas)
  const LIST_MAX = 100; // list entries shown at once; the search narrows the rest
  const DIM = 70; // alpha of the other segments while one is selected
  const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

  const fragment = (name) => {
    for (const part of location.hash.replace(/^#/, "").split("&")) {
      if (part.startsWith(name + "=")) return part.slice(name.length + 1);
    }
    return null;
  };

  /** Sets (or with `null` removes) one fragment parameter, keeping the others. */
  const setFragment = (name, value) => {
    const rest = location.hash.replace(/^#/, "").split("&").filter((p) => p && !p.startsWith(name + "="));
    if (value !== null) rest.push(`${name}=${value}`);
    history.replaceState(history.state, "", rest.length ? "#" + rest.join("&") : location.pathname + location.search);
  };

  /** Fetches and inflates one tile into a typed array of ids. */
  async function fetchIds(url, bytes) {
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const raw = await new Response(res.body.pipeThrough(new DecompressionStream("deflate"))).arrayBuffer();
    if (bytes === 1) return new Uint8Array(raw);
    if (LE) return bytes === 2 ? new Uint16Array(raw) : new Uint32Array(raw);
    const view = new DataView(raw);
    const out = bytes === 2 ? new Uint16Array(raw.byteLength / 2) : new Uint32Array(raw.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = bytes === 2 ? view.getUint16(2 * i, true) : view.getUint32(4 * i, true);
    return out;
  }

  class Segmentation {
    constructor(box, root, cfg, segments) {
      this.box = box;
      this.root = root;
      this.cfg = cfg;
      this.T = cfg.tile;
      this.segments = new Map(segments.map((s) => [s.id, s]));
      // RGBA as one little-endian uint32 (ImageData's byte order), per id.
      this.rgba = new Map();
      for (const s of segments) {
        const n = parseInt(s.colour.slice(1), 16);
        this.rgba.set(s.id, [(n >> 16) & 255, (n >> 8) & 255, n & 255]);
      }
      this.tiles = new Map(); // "slice/level/col_row" -> {ids, w, h, canvas, painted, failed}
      this.selected = null;
      this.view = root.vitrine ? root.vitrine.view() : null;
      this.stage = root.querySelector(".viewer-stage");
      this.canvas = document.createElement("canvas");
      this.canvas.className = "segmentation-canvas";
      this.canvas.setAttribute("aria-hidden", "true");
      root.querySelector("svg.viewer-overlay").before(this.canvas);
      this.ctx = this.canvas.getContext("2d");
      const q = (s) => box.querySelector(s);
      this.opacity = q(".seg-opacity");
      this.hover = q(".seg-hover");
      this.status = q(".seg-status");
      this.search = q(".seg-search");
      this.list = q(".seg-list");
      this.more = q(".seg-more");
      this.clear = q(".seg-clear");
      this.bind();
      const op = Number(fragment("so"));
      if (fragment("so") !== null && op >= 0 && op <= 100) this.opacity.value = op;
      this.applyOpacity(false);
      const seg = Number(fragment("seg"));
      if (Number.isInteger(seg) && this.segments.has(seg)) this.select(seg, false, false);
      this.fillList();
      new ResizeObserver(() => this.draw()).observe(this.stage);
      box.hidden = false;
      this.draw();
    }

    bind() {
      this.root.addEventListener("vitrine:view", (e) => {
        this.view = e.detail;
        this.draw();
      });
      this.opacity.addEventListener("input", () => this.applyOpacity(true));
      this.search.addEventListener("input", () => this.fillList());
      this.list.addEventListener("click", (e) => {
        const b = e.target.closest("button[data-id]");
        if (b) this.select(Number(b.dataset.id), true, true);
      });
      this.clear.addEventListener("click", () => this.select(null, true, false));
      let down = null;
      this.stage.addEventListener("pointerdown", (e) => (down = { x: e.clientX, y: e.clientY }));
      this.stage.addEventListener("click", async (e) => {
        if (!down || Math.hypot(e.clientX - down.x, e.clientY - down.y) > 4) return;
        const p = this.imagePoint(e);
        const id = p ? await this.idAt(p.x, p.y) : 0;
        this.select(id || null, true, false);
      });
      this.stage.addEventListener("keydown", async (e) => {
        if (e.key !== "Enter" || !this.view) return;
        e.preventDefault();
        const id = await this.idAt(Math.floor(this.view.x), Math.floor(this.view.y));
        this.select(id || null, true, false);
      });
      let pending = 0;
      this.stage.addEventListener("pointermove", async (e) => {
        const p = this.imagePoint(e);
        const ticket = ++pending;
        const id = p ? await this.idAt(p.x, p.y) : null;
        if (ticket !== pending) return;
        this.showHover(id, p);
      });
      this.stage.addEventListener("pointerleave", () => {
        pending++;
        this.showHover(null, null);
      });
      addEventListener("hashchange", () => {
        const seg = Number(fragment("seg"));
        const want = Number.isInteger(seg) && this.segments.has(seg) ? seg : null;
        if (want !== this.selected) this.select(want, false, false);
      });
    }

    /** The full-resolution image pixel under a pointer event, or null off the image. */
    imagePoint(e) {
      const v = this.view;
      if (!v) return null;
      const r = this.stage.getBoundingClientRect();
      const x = Math.floor(v.x + (e.clientX - r.left - r.width / 2) / v.scale);
      const y = Math.floor(v.y + (e.clientY - r.top - r.height / 2) / v.scale);
      const s = this.slice();
      return x >= 0 && y >= 0 && x < s.width && y < s.height ? { x, y } : null;
    }

    slice() {
      const i = this.view ? this.view.slice || 0 : 0;
      return this.cfg.slices[Math.min(i, this.cfg.slices.length - 1)];
    }

    /** The id at full-resolution pixel (x, y) of the current slice, from its exact tile. */
    async idAt(x, y) {
      const i = this.view ? this.view.slice || 0 : 0;
      const s = this.slice();
      const level = s.levels - 1;
      const col = Math.floor(x / this.T), row = Math.floor(y / this.T);
      const t = await this.tile(i, level, col, row);
      if (!t || !t.ids) return 0;
      return t.ids[(y - row * this.T) * t.w + (x - col * this.T)];
    }

    showHover(id, p) {
      if (id === null || !p) {
        this.hover.textContent = "Point at the image to see the segment under it.";
        this.hover.removeAttribute("data-id");
        return;
      }
      this.hover.dataset.id = String(id);
      this.hover.dataset.x = String(p.x);
      this.hover.dataset.y = String(p.y);
      const s = this.segments.get(id);
      this.hover.textContent = id === 0 ? `Background at (${p.x}, ${p.y})` : `Segment ${id}${s && s.name ? ` — ${s.name}` : ""} at (${p.x}, ${p.y})`;
    }

    label(id) {
      const s = this.segments.get(id);
      return `Segment ${id}${s && s.name ? ` (${s.name})` : ""}`;
    }

    applyOpacity(write) {
      const v = this.opacity.value;
      this.canvas.style.opacity = String(v / 100);
      this.opacity.setAttribute("aria-valuetext", `${v}%`);
      this.opacity.nextElementSibling.textContent = `${v}%`;
      if (write) setFragment("so", v === "50" ? null : v);
    }

    /** Selects a segment (null: none), recolours the tiles, and optionally shows it whole. */
    select(id, write, go) {
      this.selected = id;
      for (const t of this.tiles.values()) t.painted = false;
      this.clear.hidden = id === null;
      for (const b of this.list.querySelectorAll("button[data-id]")) {
        b.setAttribute("aria-pressed", String(Number(b.dataset.id) === id));
      }
      const s = id === null ? null : this.segments.get(id);
      this.status.textContent = id === null ? "No segment selected." : `${this.label(id)} selected: ${s ? s.voxels.toLocaleString("en") : "?"} voxels.`;
      if (write) setFragment("seg", id === null ? null : String(id));
      if (go && s && this.root.vitrine) {
        const w = s.max[0] - s.min[0] + 1, h = s.max[1] - s.min[1] + 1;
        const first = this.cfg.slices[0];
        const zoom = Math.max(1, Math.min(first.width / w, first.height / h) / 2);
        this.root.vitrine.setView({
          x: (s.min[0] + s.max[0] + 1) / 2,
          y: (s.min[1] + s.max[1] + 1) / 2,
          zoom,
          slice: Math.round((s.min[2] + s.max[2]) / 2),
        });
      }
      this.draw();
    }

    /** Lists the segments matching the search (id or name), largest first. */
    fillList() {
      const q = this.search.value.trim().toLowerCase();
      const all = [...this.segments.values()].filter((s) => !q || String(s.id).startsWith(q) || (s.name && s.name.toLowerCase().includes(q)));
      all.sort((a, b) => b.voxels - a.voxels || a.id - b.id);
      const frag = document.createDocumentFragment();
      for (const s of all.slice(0, LIST_MAX)) {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.dataset.id = String(s.id);
        b.setAttribute("aria-pressed", String(s.id === this.selected));
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = s.colour;
        b.append(sw, `${s.id}${s.name ? ` ${s.name}` : ""}`);
        const n = document.createElement("span");
        n.className = "muted";
        n.textContent = ` ${s.voxels.toLocaleString("en")} voxels`;
        b.append(n);
        li.append(b);
        frag.append(li);
      }
      this.list.replaceChildren(frag);
      this.more.textContent = all.length > LIST_MAX ? `${all.length - LIST_MAX} more match; refine the search to see them.` : all.length ? "" : "No segment matches.";
    }

    /** The tile, loading it when needed (a promise), or the loaded one (sync via `peek`). */
    tile(slice, level, col, row) {
      const key = `${slice}/${level}/${col}_${row}`;
      let t = this.tiles.get(key);
      if (t) {
        this.tiles.delete(key);
        this.tiles.set(key, t); // most recently used last
        return t.ready;
      }
      const s = this.cfg.slices[slice];
      const shift = s.levels - 1 - level;
      const lw = Math.ceil(s.width / 2 ** shift), lh = Math.ceil(s.height / 2 ** shift);
      if (col < 0 || row < 0 || col * this.T >= lw || row * this.T >= lh) return Promise.resolve(null);
      t = { w: Math.min(this.T, lw - col * this.T), h: Math.min(this.T, lh - row * this.T), ids: null, canvas: null, painted: false };
      t.ready = fetchIds(`${s.tiles}${level}/${col}_${row}.bin`, s.bytes).then(
        (ids) => {
          if (ids.length !== t.w * t.h) throw new Error("tile size");
          t.ids = ids;
          this.draw();
          return t;
        },
        () => {
          t.failed = true;
          return t;
        },
      );
      this.tiles.set(key, t);
      while (this.tiles.size > MAX_TILES) this.tiles.delete(this.tiles.keys().next().value);
      return t.ready;
    }

    peek(slice, level, col, row) {
      const t = this.tiles.get(`${slice}/${level}/${col}_${row}`);
      return t && t.ids ? t : null;
    }

    /** Colours a tile's ids into its canvas (selection dims the others). */
    paint(t) {
      if (!t.canvas) {
        t.canvas = document.createElement("canvas");
        t.canvas.width = t.w;
        t.canvas.height = t.h;
      }
      const img = new ImageData(t.w, t.h);
      const px = img.data;
      const sel = this.selected;
      let last = -1, c = null;
      for (let i = 0; i < t.ids.length; i++) {
        const id = t.ids[i];
        if (id === 0) continue;
        if (id !== last) {
          c = this.rgba.get(id) || [128, 128, 128];
          last = id;
        }
        const o = 4 * i;
        px[o] = c[0];
        px[o + 1] = c[1];
        px[o + 2] = c[2];
        px[o + 3] = sel === null || id === sel ? 255 : DIM;
      }
      t.canvas.getContext("2d").putImageData(img, 0, 0);
      t.painted = true;
    }

    draw() {
      if (this.frame) return;
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
    }

    render() {
      const v = this.view;
      const dpr = devicePixelRatio || 1;
      const cw = this.stage.clientWidth, ch = this.stage.clientHeight;
      if (this.canvas.width !== Math.round(cw * dpr) || this.canvas.height !== Math.round(ch * dpr)) {
        this.canvas.width = Math.round(cw * dpr);
        this.canvas.height = Math.round(ch * dpr);
      }
      const ctx = this.ctx;
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      if (!v) return;
      const slice = Math.min(v.slice || 0, this.cfg.slices.length - 1);
      const s = this.cfg.slices[slice];
      const top = s.levels - 1;
      // Coarsest level whose pixels still cover at most one device pixel each.
      const shift = Math.max(0, Math.min(top, Math.floor(Math.log2(1 / (v.scale * dpr)))));
      const level = top - shift;
      ctx.imageSmoothingEnabled = false;
      ctx.setTransform(v.scale * dpr, 0, 0, v.scale * dpr, (cw / 2 - v.x * v.scale) * dpr, (ch / 2 - v.y * v.scale) * dpr);
      const x0 = Math.max(0, v.x - cw / 2 / v.scale), x1 = Math.min(s.width, v.x + cw / 2 / v.scale);
      const y0 = Math.max(0, v.y - ch / 2 / v.scale), y1 = Math.min(s.height, v.y + ch / 2 / v.scale);
      const span = this.T * 2 ** shift; // image pixels per tile at this level
      for (let row = Math.floor(y0 / span); row * span < y1; row++) {
        for (let col = Math.floor(x0 / span); col * span < x1; col++) {
          this.tile(slice, level, col, row);
          const t = this.peek(slice, level, col, row);
          if (t) this.blit(t, 0, 0, t.w, t.h, col * span, row * span, 2 ** shift);
          else this.standIn(slice, level, col, row, span);
        }
      }
    }

    /** Draws part `(sx, sy, sw, sh)` of a tile at image position (x, y), `f` image px a tile px. */
    blit(t, sx, sy, sw, sh, x, y, f) {
      if (!t.painted) this.paint(t);
      this.ctx.drawImage(t.canvas, sx, sy, sw, sh, x, y, sw * f, sh * f);
    }

    /** While a tile loads, the part of the nearest loaded coarser tile that covers it. */
    standIn(slice, level, col, row, span) {
      const top = this.cfg.slices[slice].levels - 1;
      for (let up = 1; level - up >= 0; up++) {
        const k = 2 ** up;
        const t = this.peek(slice, level - up, Math.floor(col / k), Math.floor(row / k));
        if (!t) continue;
        const part = this.T / k;
        const sx = (col % k) * part, sy = (row % k) * part;
        const sw = Math.min(part, t.w - sx), sh = Math.min(part, t.h - sy);
        if (sw > 0 && sh > 0) this.blit(t, sx, sy, sw, sh, col * span, row * span, 2 ** (top - level + up));
        return;
      }
    }
  }

  async function start(box) {
    const root = document.getElementById(box.dataset.viewer);
    if (!root || !("DecompressionStream" in window)) return;
    const cfg = JSON.parse(box.dataset.segmentation);
    try {
      const res = await fetch(cfg.segments, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      root.segmentation = new Segmentation(box, root, cfg, data.segments);
    } catch (err) {
      const p = document.createElement("p");
      p.className = "overlay-note";
      p.textContent = `The segmentation could not be loaded (${err.message}); reload the page to try again.`;
      box.after(p);
    }
  }

  const boot = () => document.querySelectorAll("section.segmentation[data-segmentation]").forEach(start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
