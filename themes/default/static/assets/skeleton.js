/*
 * vitrine skeleton overlay: draws an annotation's trees over the dataset viewer.
 *
 * Markup (annotation.html): a `fieldset.tree-toggles[data-skeleton][data-viewer]` holding one
 * checkbox per tree (`value` = tree id). `data-skeleton` is the URL of skeleton.json, relative to
 * the page (so a private page's overlay is gated with it); `data-viewer` the viewer root's id.
 *
 * skeleton.json: `{slices, trees: [{id, name, color, nodes: [[x, y, z]], edges: [[i, j]]}]}`,
 * x and y in full-resolution image pixels (the overlay's viewBox), z in slice indices.
 *
 * Each tree becomes `<g class="skeleton-tree" data-tree=id>` with a `<title>` of its name.
 * On a z-stack, edges that cross the current slice and nodes on it are drawn strongly, the rest
 * faintly; the viewer's `vitrine:view` event says when the slice changes. Lines and dots keep
 * their screen size at any zoom (non-scaling strokes), so nothing is redrawn while zooming.
 */
(() => {
  "use strict";

  const SVG = "http://www.w3.org/2000/svg";

  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  const fmt = (v) => String(Math.round(v * 100) / 100);

  /** One tree's `<g>` and the paths redrawn when the slice changes. */
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

    /** Redraws for slice `s`; on a single image everything is on the slice. */
    draw(s) {
      const { nodes, edges } = this.tree;
      const on = (z) => !this.stack || Math.round(z) === s;
      const crosses = (a, b) =>
        !this.stack || (Math.min(a[2], b[2]) - 0.5 <= s && s <= Math.max(a[2], b[2]) + 0.5);
      let near = "", far = "", dots = "";
      for (const [i, j] of edges) {
        const a = nodes[i], b = nodes[j];
        const seg = `M${fmt(a[0])} ${fmt(a[1])}L${fmt(b[0])} ${fmt(b[1])}`;
        if (crosses(a, b)) near += seg;
        else far += seg;
      }
      for (const n of nodes) {
        // A zero-length segment with round caps is a dot of constant screen size.
        if (on(n[2])) dots += `M${fmt(n[0])} ${fmt(n[1])}h0`;
      }
      this.near.setAttribute("d", near);
      this.far.setAttribute("d", far);
      this.dots.setAttribute("d", dots);
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
      data = await res.json();
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

    let slice = null;
    const redraw = (s) => {
      if (s === slice) return;
      slice = s;
      for (const t of trees.values()) t.draw(s);
    };
    const current = root.vitrine && root.vitrine.view ? root.vitrine.view().slice : 0;
    redraw(current || 0);
    root.addEventListener("vitrine:view", (e) => redraw(e.detail.slice || 0));

    for (const input of box.querySelectorAll("input[type=checkbox]")) {
      const t = trees.get(input.value);
      if (!t) continue;
      const sync = () => { t.g.style.display = input.checked ? "" : "none"; };
      input.addEventListener("change", sync);
      sync();
    }
    box.hidden = false;
  }

  const boot = () => document.querySelectorAll("fieldset.tree-toggles[data-skeleton]").forEach(start);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
