/*
 * vitrine skeleton overlay: draws an annotation's trees over the dataset viewer.
 *
 * Markup (annotation.html): a `fieldset.tree-toggles[data-skeleton][data-viewer]` holding one
 * checkbox per tree (`value` = tree id). `data-skeleton` is the URL of skeleton.bin, relative to
 * the page (so a private page's overlay is gated with it); `data-viewer` the viewer root's id.
 *
 * skeleton.bin (written by src/render/overlay.rs, which explains the choices): "VSK1", a u32
 * (little-endian) header length, a JSON header `{slices, origin, step, levels, trees: [{id,
 * name, color, nodes, bytes, edges: [[count, bytes] | null per level]}]}`, then per tree its
 * nodes and its edge list of each level as zigzag LEB128 varints: a node is the change of its
 * quantised x, y, z from the node before, at `(origin + q · step) / 100` image pixels (z in
 * slices); an edge is the change of its first index from the edge before, then its second
 * index less its first. Level 0 holds every edge; coarser levels (cells of `levels[i]` image
 * pixels) hold fewer edges between the same nodes, `null` meaning "as the finer level".
 *
 * Each tree becomes `<g class="skeleton-tree" data-tree=id>` with a `<title>` of its name.
 * On a z-stack, edges that cross the current slice and nodes on it are drawn strongly, the rest
 * faintly; the viewer's `vitrine:view` event says when the slice changes. Lines and dots keep
 * their screen size at any zoom (non-scaling strokes), so a small tracing is never redrawn while
 * zooming. A big one is drawn at the finest level whose edges in view fit BUDGET, only around
 * the view, and redrawn once the view settles elsewhere; dots are drawn at level 0 only.
 * Once the first drawing is on screen the performance mark `vitrine:skeleton-drawn` is set.
 */
(() => {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";
  // Segments (and dots) in one drawing: Chromium builds and paints ~50k SVG segments in
  // ~0.1 s on the benchmark machine, and a screen has no room for more distinct ones.
  const BUDGET = 50000;
  const DOTS = 20000;
  // A culled drawing reaches this many viewports past each side of the view, so a short pan
  // needs no redraw.
  const MARGIN = 0.5;
  const SETTLE_MS = 120;

  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  const fmt = (v) => String(Math.round(v * 100) / 100);

  /** Reads skeleton.bin into `{slices, levels, trees: [{id, name, color, x, y, z, edges}]}`. */
  function decode(buffer) {
    const bytes = new Uint8Array(buffer);
    const view = new DataView(buffer);
    if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 4)) !== "VSK1") {
      throw new Error("not a skeleton.bin");
    }
    const hlen = view.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
    let at = 8 + hlen;
    let end = 0;
    // Zigzag LEB128; numbers stay below 2^53, so plain arithmetic, not 32-bit operators.
    const next = () => {
      let z = 0, mul = 1, b;
      do {
        if (at >= end) throw new Error("truncated skeleton.bin");
        b = bytes[at++];
        z += (b & 0x7f) * mul;
        mul *= 128;
      } while (b & 0x80);
      return z % 2 ? -(z + 1) / 2 : z / 2;
    };
    const [ox, oy, oz] = header.origin;
    const [sx, sy, sz] = header.step;
    const trees = header.trees.map((t) => {
      const n = t.nodes;
      const x = new Float64Array(n), y = new Float64Array(n), z = new Float64Array(n);
      end = at + t.bytes;
      let qx = 0, qy = 0, qz = 0;
      for (let i = 0; i < n; i++) {
        qx += next(); qy += next(); qz += next();
        x[i] = (ox + qx * sx) / 100;
        y[i] = (oy + qy * sy) / 100;
        z[i] = (oz + qz * sz) / 100;
      }
      const edges = [];
      for (const level of t.edges) {
        if (!level) {
          edges.push(edges[edges.length - 1]);
          continue;
        }
        const [count, len] = level;
        end = at + len;
        const e = new Uint32Array(2 * count);
        let a = 0;
        for (let k = 0; k < count; k++) {
          a += next();
          const b = a + next();
          if (a < 0 || a >= n || b < 0 || b >= n) throw new Error("corrupt skeleton.bin");
          e[2 * k] = a;
          e[2 * k + 1] = b;
        }
        edges.push(e);
      }
      return { id: t.id, name: t.name, color: t.color, x, y, z, edges };
    });
    return { slices: header.slices, levels: header.levels, trees };
  }

  /** Whether edge k of `e` may show in `r` (its bounding box meets it); `r` null = everywhere. */
  const edgeIn = (t, e, k, r) => {
    if (!r) return true;
    const a = e[2 * k], b = e[2 * k + 1];
    const ax = t.x[a], bx = t.x[b], ay = t.y[a], by = t.y[b];
    return Math.max(ax, bx) >= r.x0 && Math.min(ax, bx) <= r.x1 &&
      Math.max(ay, by) >= r.y0 && Math.min(ay, by) <= r.y1;
  };

  /** One tree's `<g>` and the paths redrawn when the slice or the level changes. */
  class TreeLayer {
    constructor(tree, stack) {
      this.tree = tree;
      this.stack = stack;
      this.g = el("g", {
        class: "skeleton-tree",
        "data-tree": String(tree.id),
        stroke: tree.color,
        fill: "none",
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
      });
      const title = el("title");
      title.textContent = tree.name;
      this.g.append(title);
      const line = (cls, width) =>
        el("path", { class: cls, "stroke-width": width, "vector-effect": "non-scaling-stroke" });
      this.far = line("far", "1.5");
      this.near = line("near", "2.5");
      this.dots = line("dots", "6");
      this.g.append(this.far, this.near, this.dots);
    }

    get shown() {
      return this.g.style.display !== "none";
    }

    /** Edges of `level` that may show in `r`. */
    count(level, r) {
      const e = this.tree.edges[level], n = e.length / 2;
      if (!r) return n;
      let c = 0;
      for (let k = 0; k < n; k++) if (edgeIn(this.tree, e, k, r)) c++;
      return c;
    }

    /** Redraws for slice `s` at `level` within `r` (null: all); dots only when `dots`. */
    draw(s, level, r, dots) {
      const t = this.tree, e = t.edges[level];
      const on = (i) => !this.stack || Math.round(t.z[i]) === s;
      const crosses = (a, b) =>
        !this.stack || (Math.min(t.z[a], t.z[b]) - 0.5 <= s && s <= Math.max(t.z[a], t.z[b]) + 0.5);
      const near = [], far = [], spots = [];
      for (let k = 0, n = e.length / 2; k < n; k++) {
        if (!edgeIn(t, e, k, r)) continue;
        const a = e[2 * k], b = e[2 * k + 1];
        const seg = `M${fmt(t.x[a])} ${fmt(t.y[a])}L${fmt(t.x[b])} ${fmt(t.y[b])}`;
        (crosses(a, b) ? near : far).push(seg);
      }
      if (dots) {
        for (let i = 0; i < t.x.length; i++) {
          const inside = !r || (t.x[i] >= r.x0 && t.x[i] <= r.x1 && t.y[i] >= r.y0 && t.y[i] <= r.y1);
          // A zero-length segment with round caps is a dot of constant screen size.
          if (inside && on(i)) spots.push(`M${fmt(t.x[i])} ${fmt(t.y[i])}h0`);
        }
      }
      this.near.setAttribute("d", near.join(""));
      this.far.setAttribute("d", far.join(""));
      this.dots.setAttribute("d", spots.join(""));
    }
  }

  async function start(box) {
    const root = document.getElementById(box.dataset.viewer);
    const svg = root && root.querySelector("svg.viewer-overlay");
    if (!svg) return;
    let data;
    try {
      const res = await fetch(box.dataset.skeleton, { credentials: "same-origin" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      data = decode(await res.arrayBuffer());
    } catch (err) {
      const p = document.createElement("p");
      p.className = "overlay-note";
      p.textContent = `The skeleton could not be loaded (${err.message}); reload the page to try again.`;
      box.after(p);
      return;
    }
    const stack = data.slices > 1;
    const layer = el("g", { class: "skeleton" });
    const trees = new Map();
    for (const tree of data.trees) {
      const t = new TreeLayer(tree, stack);
      trees.set(String(tree.id), t);
      layer.append(t.g);
    }
    svg.append(layer);
    const layers = [...trees.values()];
    const total = (level) => layers.reduce((n, t) => n + (t.shown ? t.count(level, null) : 0), 0);
    const nodes = layers.reduce((n, t) => n + t.tree.x.length, 0);
    // Small tracings (everything within budget) are drawn whole, once per slice.
    const small = total(0) <= BUDGET && nodes <= DOTS;

    /** The image rectangle of view `v` widened by `margin` viewports on each side; null
     * while the viewer has not started. */
    const rect = (v, margin) => {
      const stage = root.querySelector(".viewer-stage") || root;
      if (!v || !v.scale || !stage.clientWidth) return null;
      const w = (stage.clientWidth / v.scale) * (0.5 + margin);
      const h = (stage.clientHeight / v.scale) * (0.5 + margin);
      return { x0: v.x - w, x1: v.x + w, y0: v.y - h, y1: v.y + h };
    };
    /** The finest level whose edges in `r` fit the budget, and whether to cull to `r`. */
    const choose = (r) => {
      const last = data.levels.length - 1;
      for (let level = 0; level <= last; level++) {
        // Level 0 stays culled to the view, where its dots may fit.
        if (total(level) <= BUDGET) return { level, r: level === 0 ? r : null };
        if (!r) continue;
        const c = layers.reduce((n, t) => n + (t.shown ? t.count(level, r) : 0), 0);
        if (c <= BUDGET) return { level, r };
      }
      return { level: last, r };
    };

    let drawn = null; // {slice, level, r}
    const draw = (slice, v, force) => {
      if (small) {
        if (drawn && drawn.slice === slice && !force) return;
        for (const t of layers) t.draw(slice, 0, null, true);
        drawn = { slice };
        return;
      }
      const pick = choose(rect(v, MARGIN));
      // The same level, and the view still within what was drawn: nothing to do.
      const seen = rect(v, 0);
      const covered = (r) => !r || (seen && r.x0 <= seen.x0 && r.y0 <= seen.y0 && r.x1 >= seen.x1 && r.y1 >= seen.y1);
      if (!force && drawn && drawn.slice === slice && drawn.level === pick.level && covered(drawn.r)) return;
      let dots = false;
      if (pick.level === 0) {
        let n = 0;
        for (const t of layers) {
          if (!t.shown) continue;
          for (let i = 0; i < t.tree.x.length && n <= DOTS; i++) {
            const r = pick.r;
            if (!r || (t.tree.x[i] >= r.x0 && t.tree.x[i] <= r.x1 && t.tree.y[i] >= r.y0 && t.tree.y[i] <= r.y1)) n++;
          }
        }
        dots = n <= DOTS;
      }
      for (const t of layers) if (t.shown) t.draw(slice, pick.level, pick.r, dots);
      drawn = { slice, level: pick.level, r: pick.r };
    };

    const current = () => (root.vitrine && root.vitrine.view ? root.vitrine.view() : null);
    let view = current();
    draw((view && view.slice) || 0, view, true);
    // The frame after the one that drew it: the drawing is on screen (bench/big-tracing).
    requestAnimationFrame(() => requestAnimationFrame(() => performance.mark("vitrine:skeleton-drawn")));
    let timer = null;
    root.addEventListener("vitrine:view", (e) => {
      view = e.detail;
      const slice = view.slice || 0;
      if (small || !drawn || drawn.slice !== slice) {
        clearTimeout(timer);
        draw(slice, view);
        return;
      }
      // A big tracing waits for the view to settle, so easing is not slowed by redraws.
      clearTimeout(timer);
      timer = setTimeout(() => draw(view.slice || 0, view), SETTLE_MS);
    });

    for (const input of box.querySelectorAll("input[type=checkbox]")) {
      const t = trees.get(input.value);
      if (!t) continue;
      const sync = () => {
        const was = t.shown;
        t.g.style.display = input.checked ? "" : "none";
        // A hidden tree is not drawn while big; showing it again draws it for the view.
        if (!small && input.checked && !was && drawn) draw(drawn.slice, view, true);
      };
      input.addEventListener("change", sync);
      sync();
    }
    box.hidden = false;
  }

  const boot = () => document.querySelectorAll("fieldset.tree-toggles[data-skeleton]").forEach(start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
