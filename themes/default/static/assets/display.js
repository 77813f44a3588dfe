/*
 * vitrine display range: min and max in the data's own units over the slice's histogram, gamma
 * and invert, applied to the viewer's tiles on the GPU (a WebGL2 program windows each tile). Loaded by
 * `partials/viewer.html` beside viewer.js when the slices carry `display` facts
 * (`{range, window, display_map, raw_map, integer, raw, histogram}`, see docs/viewer.md).
 *
 * 16-bit and float slices are drawn from their lossless pyramid (`display.raw`: PNG tiles with
 * the 16-bit value in red and green, `raw_map` giving its units); 8-bit slices from their own
 * tiles, whose values `display_map` gives in the data's units. The window starts where the
 * 8-bit tiles are (`display_map`: the 0.5–99.5 % percentiles of 16-bit and float data, 8-bit
 * data as it is unless its range was narrow); "Auto" sets the percentiles. The state lives in
 * the URL fragment as `d=min,max,gamma,invert` beside the viewer's `v=`. The WebGL2 painter
 * takes over only once the range differs from that start (or the URL names one), so a reader
 * who never touches it downloads only the 8-bit tiles. Without WebGL2 the controls stay hidden
 * and the viewer keeps its 8-bit tiles and its brightness and contrast sliders.
 *
 * Hand-written: the viewer is dependency-free by design, and no library windows tiles of a
 * custom viewer; the WebGL part is one shader and a texture per tile.
 */
(() => {
  "use strict";

  const VERTEX = `#version 300 es
in vec2 p;
uniform vec4 rect; // x, y, w, h in device pixels
uniform vec2 size;
out vec2 uv;
void main() {
  uv = p;
  vec2 at = (rect.xy + p * rect.zw) / size * 2.0 - 1.0;
  gl_Position = vec4(at.x, -at.y, 0.0, 1.0);
}`;

  // value = map.x + v (map.y - map.x), v in 0..1 (a byte over 255, or two packed over 65535);
  // then windowed, gamma-corrected (n^gamma, as ImageJ and napari) and perhaps inverted.
  const FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D tex;
uniform bool packed;
uniform vec2 map;
uniform vec2 win;
uniform float gamma;
uniform bool invert;
in vec2 uv;
out vec4 colour;
void main() {
  vec4 c = texture(tex, uv);
  vec3 v = packed ? vec3((round(c.r * 255.0) * 256.0 + round(c.g * 255.0)) / 65535.0) : c.rgb;
  vec3 n = clamp((map.x + v * (map.y - map.x) - win.x) / max(win.y - win.x, 1e-30), 0.0, 1.0);
  n = pow(n, vec3(gamma));
  colour = vec4(invert ? 1.0 - n : n, 1.0);
}`;

  /**
   * A painter for the viewer (see viewer.js) that windows each tile once on the GPU and
   * composites the results on a 2D canvas; null where WebGL2 is missing.
   *
   * Each tile (a lossless one, an 8-bit one or the fallback image) is drawn through the
   * window by a WebGL2 program into an offscreen canvas at its own size, taken out as an
   * ImageBitmap and kept until the window changes or the viewer drops the tile. Panning then
   * only composites finished bitmaps, as the plain viewer does. Drawing every tile through
   * WebGL on every frame instead cost 26–100 ms a frame on software GL (SwiftShader), against
   * 4–6 ms this way (bench/README.md, "Display range").
   */
  function glPainter(state, slices, redraw) {
    if (typeof OffscreenCanvas === "undefined") return null;
    const off = new OffscreenCanvas(256, 256);
    const gl = off.getContext("webgl2", { alpha: false, antialias: false, depth: false });
    if (!gl) return null;
    // The window's state is in the URL, so starting afresh loses nothing.
    off.addEventListener("webglcontextlost", () => location.reload());
    const shader = (type, src) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, src);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      return s;
    };
    const prog = gl.createProgram();
    gl.attachShader(prog, shader(gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(prog);
    if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(prog));
    gl.useProgram(prog);
    const u = {};
    for (const n of ["rect", "size", "packed", "map", "win", "gamma", "invert"]) u[n] = gl.getUniformLocation(prog, n);
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    const at = gl.getAttribLocation(prog, "p");
    gl.enableVertexAttribArray(at);
    gl.vertexAttribPointer(at, 2, gl.FLOAT, false, 0, 0);
    // The tiles' bytes exactly as stored: no colour management, no premultiplication.
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);

    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d");
    const done = new Map(); // tile image -> {bitmap, texture, key}
    let key = "";
    // After a window change, tiles are windowed again for at most this long a frame; the rest
    // show their previous window until the next frame. On software GL a full view takes ~150 ms
    // (bench/README.md), which would otherwise stall every frame of a slider drag.
    const BUDGET_MS = 10;
    let until = 0;

    // A tile keeps its texture while it is among the last TEXTURES drawn (the view's tiles
    // and some), so a window change re-windows them without uploading; older ones keep only
    // their windowed bitmap and are uploaded again if the window changes while they are shown.
    const TEXTURES = 128;
    let textures = 0;
    function upload(img) {
      if (textures >= TEXTURES) {
        for (const t of done.values()) {
          if (!t.texture) continue;
          gl.deleteTexture(t.texture);
          t.texture = null;
          textures--;
          break;
        }
      }
      const texture = gl.createTexture();
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, img);
      // Texel for pixel: packed values must never be blended (their bytes would mix).
      for (const k of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, k, gl.NEAREST);
      for (const k of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, k, gl.CLAMP_TO_EDGE);
      textures++;
      return texture;
    }

    /** The tile through the current window, at its own size (texel for pixel: exact). */
    function through(img, packed, slice, texture) {
      const w = img.naturalWidth, h = img.naturalHeight;
      if (off.width < w || off.height < h) {
        off.width = Math.max(off.width, w);
        off.height = Math.max(off.height, h);
      }
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.viewport(0, 0, off.width, off.height);
      gl.uniform2f(u.size, off.width, off.height);
      const d = slices[slice] && slices[slice].display;
      // A slice without display facts (transparency) is drawn as it is.
      const map = !d ? [0, 1] : packed ? d.raw_map : d.display_map;
      gl.uniform2f(u.win, d ? state.min : 0, d ? state.max : 1);
      gl.uniform1f(u.gamma, d ? state.gamma : 1);
      gl.uniform1i(u.invert, !!d && state.invert);
      gl.uniform1i(u.packed, packed);
      gl.uniform2f(u.map, map[0], map[1]);
      gl.uniform4f(u.rect, 0, 0, w, h);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
      return off.transferToImageBitmap();
    }

    return {
      canvas,
      packed: true,
      settled: true,
      clear() {
        key = `${state.min},${state.max},${state.gamma},${state.invert}`;
        until = performance.now() + BUDGET_MS;
        this.settled = true; // every tile drawn this frame shows the current window
        ctx.clearRect(0, 0, canvas.width, canvas.height);
      },
      draw(img, x, y, w, h, smooth, packed, slice) {
        const t = done.get(img) || { texture: null, bitmap: null, key: null };
        // Most recently drawn last, so the textures given up first are the oldest.
        done.delete(img);
        done.set(img, t);
        if (t.key !== key && t.bitmap && performance.now() > until) {
          this.settled = false;
          redraw();
        } else if (t.key !== key) {
          if (!t.texture) t.texture = upload(img);
          if (t.bitmap) t.bitmap.close();
          t.bitmap = through(img, packed, slice, t.texture);
          t.key = key;
        }
        ctx.imageSmoothingEnabled = smooth;
        ctx.drawImage(t.bitmap, 0, 0, img.naturalWidth, img.naturalHeight, x, y, w, h);
      },
      forget(img) {
        const t = done.get(img);
        if (!t) return;
        if (t.texture) {
          gl.deleteTexture(t.texture);
          textures--;
        }
        if (t.bitmap) t.bitmap.close();
        done.delete(img);
      },
    };
  }

  /** Reads `d=min,max,gamma,invert` out of a fragment; null when absent or malformed. */
  function parseFragment(hash) {
    for (const part of hash.replace(/^#/, "").split("&")) {
      if (!part.startsWith("d=")) continue;
      const v = part.slice(2).split(",").map(Number);
      if (v.length === 4 && v.every(Number.isFinite) && v[1] > v[0] && v[2] > 0) {
        return { min: v[0], max: v[1], gamma: v[2], invert: v[3] === 1 };
      }
    }
    return null;
  }

  const fmt = (v, integer) => (integer ? String(Math.round(v)) : String(+v.toPrecision(5)));

  function attach(root) {
    const api = root.vitrine;
    const cfg = JSON.parse(root.dataset.viewer);
    const slices = cfg.slices;
    const panel = root.querySelector(".viewer-display");
    const first = slices.find((s) => s.display);
    if (!api || !panel || !first) return;
    const integer = slices.every((s) => !s.display || s.display.integer);
    const start = { min: first.display.display_map[0], max: first.display.display_map[1], gamma: 1, invert: false };
    if (!(start.max > start.min)) start.max = start.min + (integer ? 1 : 1e-6);
    const asked = parseFragment(location.hash);
    const state = { ...start, ...(asked || {}) };
    let painter = null;
    try {
      painter = glPainter(state, slices, () => api.redraw());
    } catch (err) {
      console.warn("vitrine display range disabled:", err.message);
    }
    if (!painter) return; // the viewer keeps its 8-bit tiles and brightness/contrast sliders
    let engaged = false;
    const engage = () => {
      if (engaged) return;
      engaged = true;
      api.setPainter(painter);
    };
    if (asked) engage();
    root.displayRange = { state, painter, engaged: () => engaged };

    const q = (s) => panel.querySelector(s);
    const [min, max, gamma, invert] = [".viewer-min", ".viewer-max", ".viewer-gamma", ".viewer-invert"].map(q);
    const gammaText = gamma.nextElementSibling;
    const hist = q(".viewer-histogram");
    const bright = root.querySelector(".viewer-brightness");
    if (bright) bright.closest(".viewer-group").hidden = true;
    panel.hidden = false;
    let slice = api.view().slice;

    const facts = () => (slices[slice] && slices[slice].display) || first.display;

    function drawHistogram() {
      const d = facts();
      const bins = Uint8Array.from(atob(d.histogram), (c) => c.charCodeAt(0));
      const ctx = hist.getContext("2d");
      const { width: w, height: h } = hist;
      ctx.clearRect(0, 0, w, h);
      const [lo, hi] = d.range;
      const x = (v) => ((v - lo) / (hi - lo || 1)) * w;
      // The window, shaded, with the gamma curve across it: what the sliders do, at a glance.
      const x0 = x(state.min), x1 = x(state.max);
      ctx.fillStyle = "rgba(124, 196, 255, 0.18)";
      ctx.fillRect(x0, 0, x1 - x0, h);
      ctx.fillStyle = "#c9d3dd";
      const bw = w / bins.length;
      bins.forEach((b, i) => b && ctx.fillRect(i * bw, h - (b / 255) * h, Math.max(bw, 1), (b / 255) * h));
      ctx.strokeStyle = "#7cc4ff";
      ctx.beginPath();
      for (let i = 0; i <= 32; i++) {
        const n = i / 32;
        const yv = state.invert ? 1 - n ** state.gamma : n ** state.gamma;
        ctx.lineTo(x0 + n * (x1 - x0), h - yv * h);
      }
      ctx.stroke();
      hist.setAttribute(
        "aria-label",
        `Histogram of slice ${slice + 1}: values from ${fmt(lo, integer)} to ${fmt(hi, integer)}; ` +
          `shown from ${fmt(state.min, integer)} (black) to ${fmt(state.max, integer)} (white)` +
          `${state.gamma !== 1 ? `, gamma ${state.gamma.toFixed(2)}` : ""}${state.invert ? ", inverted" : ""}.`
      );
    }

    function show() {
      min.value = fmt(state.min, integer);
      max.value = fmt(state.max, integer);
      // Counts step by one; float values by anything (a fixed step would mark typed values
      // between its multiples invalid).
      min.step = max.step = integer ? "1" : "any";
      gamma.value = Math.log10(state.gamma);
      gammaText.textContent = state.gamma.toFixed(2);
      gamma.setAttribute("aria-valuetext", `gamma ${state.gamma.toFixed(2)}`);
      invert.checked = state.invert;
      drawHistogram();
      api.redraw();
    }

    function writeFragment() {
      const s = [state.min, state.max].map((v) => fmt(v, integer));
      const d = `d=${s[0]},${s[1]},${+state.gamma.toFixed(3)},${state.invert ? 1 : 0}`;
      const rest = location.hash.replace(/^#/, "").split("&").filter((p) => p && !p.startsWith("d="));
      history.replaceState(history.state, "", "#" + [...rest, d].join("&"));
    }

    function set(next) {
      Object.assign(state, next);
      engage();
      show();
      writeFragment();
    }

    const bad = (input, text) => {
      input.setCustomValidity(text);
      input.setAttribute("aria-invalid", String(!!text));
      root.querySelector(".viewer-status").textContent = text;
    };
    for (const [input, key] of [[min, "min"], [max, "max"]]) {
      input.addEventListener("change", () => {
        const v = Number(input.value);
        const other = key === "min" ? state.max : state.min;
        if (input.value === "" || !Number.isFinite(v) || (key === "min" ? v >= other : v <= other)) {
          bad(input, `The display ${key === "min" ? "minimum must be below the maximum" : "maximum must be above the minimum"}.`);
          return;
        }
        bad(input, "");
        set({ [key]: v });
      });
    }
    gamma.addEventListener("input", () => set({ gamma: 10 ** Number(gamma.value) }));
    // With a pointer, the histogram is also a two-handled slider: pressing moves the nearer of
    // min and max to the value under the pointer, dragging keeps moving it (the number fields
    // are the keyboard's way to the same).
    let handle = null;
    const valueAt = (e) => {
      const [lo, hi] = facts().range;
      const r = hist.getBoundingClientRect();
      const v = lo + Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)) * (hi - lo);
      return integer ? Math.round(v) : v;
    };
    const drag = (e) => {
      const v = valueAt(e);
      if (handle === "min" && v < state.max) set({ min: v });
      else if (handle === "max" && v > state.min) set({ max: v });
    };
    hist.addEventListener("pointerdown", (e) => {
      const v = valueAt(e);
      handle = Math.abs(v - state.min) <= Math.abs(v - state.max) ? "min" : "max";
      hist.setPointerCapture(e.pointerId);
      drag(e);
    });
    hist.addEventListener("pointermove", (e) => handle && drag(e));
    for (const t of ["pointerup", "pointercancel"]) hist.addEventListener(t, () => (handle = null));
    invert.addEventListener("change", () => set({ invert: invert.checked }));
    panel.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-display]");
      if (!b) return;
      const d = facts();
      if (b.dataset.display === "auto") set({ min: d.window[0], max: d.window[1], gamma: 1, invert: false });
      else if (d.range[1] > d.range[0]) set({ min: d.range[0], max: d.range[1] });
    });
    root.addEventListener("vitrine:view", (e) => {
      if (e.detail.slice === slice) return;
      slice = e.detail.slice;
      drawHistogram();
    });
    addEventListener("hashchange", () => {
      const v = parseFragment(location.hash);
      if (v) {
        Object.assign(state, v);
        engage();
        show();
      }
    });
    show();
  }

  const start = () => {
    for (const root of document.querySelectorAll(".viewer[data-viewer]")) {
      if (root.displayStarted) continue;
      if (!root.vitrine) {
        root.addEventListener("vitrine:ready", start, { once: true });
        continue;
      }
      root.displayStarted = true;
      attach(root);
    }
  };
  start();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
})();
