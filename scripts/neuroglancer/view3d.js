/*
 * vitrine's 3D view: Neuroglancer set up on one volume, bundled by build.mjs into
 * themes/default/static/neuroglancer/view3d.js (see docs/volumes.md).
 *
 * Markup (templates/view3d.html): `#neuroglancer` with `data-view3d` =
 * `{source, worker, shape: [x, y, z], voxel_size_nm: [x, y, z] | null, name, slice, skeletons}`: `source` is the
 * layer's Neuroglancer URL, written relative to the page for the site's own volume
 * (`zarr3://…/volume.ome.zarr/`, resolved here against the page's address, so a private page's
 * chunks are fetched from its own origin through the gate), `worker` the chunk worker's
 * address, `shape` the full-resolution size (null when unknown), `voxel_size_nm` the physical
 * voxel size, `slice` the z the view opens on without a fragment (the 2D viewer's first slice;
 * null: the middle), `skeletons` the tracings as `[{name, colour, lines: [[ax, ay, az, bx, by,
 * bz]]}]` in voxel coordinates, each shown as an annotation layer of line segments, and
 * `segmentations` the public segmentation layers as `[{name, source}]`, each the volume's
 * OME-Zarr labels (`zarr3://…/volume.ome.zarr/labels/<id>/`), shown as a segmentation layer.
 *
 * State lives in the fragment as Neuroglancer's own JSON (`#!{...}`). A fragment in the 2D
 * viewer's form (`#v=x,y,zoom,slice`, what the dataset page's "3D view" link carries) opens the
 * same centre, slice and magnification instead.
 *
 * This is a copy of Neuroglancer's `setupDefaultViewer` without what would call another host:
 * no Google Tag Manager, no state server (STATE_SERVERS stays undefined), no credentials
 * providers and only the http/gcs/s3 stores and zarr/n5/precomputed sources are compiled in
 * (build.mjs's conditions).
 */
import "neuroglancer/unstable/util/polyfills.js";
import "neuroglancer/unstable/layer/enabled_frontend_modules.js";
import "neuroglancer/unstable/datasource/enabled_frontend_modules.js";
import "neuroglancer/unstable/kvstore/enabled_frontend_modules.js";
import { StatusMessage } from "neuroglancer/unstable/status.js";
import {
  bindDefaultCopyHandler,
  bindDefaultPasteHandler,
} from "neuroglancer/unstable/ui/default_clipboard_handling.js";
import { setDefaultInputEventBindings } from "neuroglancer/unstable/ui/default_input_event_bindings.js";
import { makeMinimalViewer } from "neuroglancer/unstable/ui/minimal_viewer.js";
import { UrlHashBinding } from "neuroglancer/unstable/ui/url_hash_binding.js";

const container = document.getElementById("neuroglancer");
const config = JSON.parse(container.dataset.view3d);
// Read by the chunk worker's `new URL(...)` (build.mjs rewrites Neuroglancer's literal).
globalThis.VITRINE_CHUNK_WORKER = new URL(config.worker, location.href).href;

/** The layer's source with a page-relative address made absolute (`zarr3://x/` → `zarr3://https://…/x/`). */
function absoluteSource(source) {
  const m = /^(zarr[23]?|n5|precomputed):\/\/(.*)$/.exec(source);
  if (!m || /^[a-z][a-z0-9+.-]*:\/\//i.test(m[2])) return source;
  return `${m[1]}://${new URL(m[2], location.href).href}`;
}

/** The 2D viewer's `#v=x,y,zoom,slice`, or null. */
function view2d(hash) {
  for (const part of hash.replace(/^#/, "").split("&")) {
    if (!part.startsWith("v=")) continue;
    const v = part.slice(2).split(",").map(Number);
    if (v.length >= 3 && v.every(Number.isFinite)) return { x: v[0], y: v[1], zoom: v[2], slice: v[3] || 0 };
  }
  return null;
}

/** Voxels per screen pixel at the 2D viewer's zoom 1 (the whole slice in a panel, about half the window). */
function fitScale() {
  const [sx, sy] = config.shape || [1, 1];
  const panel = Math.max(1, Math.min(container.clientWidth, container.clientHeight) / 2);
  return Math.max(sx, sy, 1) / panel;
}

/** The state the view opens with: four panels at the 2D view's position, or the volume's centre. */
function initialState() {
  const [sx, sy, sz] = config.shape || [0, 0, 0];
  const nm = config.voxel_size_nm || [1, 1, 1];
  const v = view2d(location.hash) || { x: sx / 2, y: sy / 2, zoom: 1, slice: config.slice ?? Math.max(0, Math.floor(sz / 2)) };
  const fit = fitScale();
  const state = {
    layers: [{ type: "image", name: config.name, source: absoluteSource(config.source) }],
    layout: "4panel",
    showDefaultAnnotations: true,
  };
  // Layer names must differ.
  const names = new Set([config.name]);
  for (const s of config.segmentations || []) {
    let name = s.name;
    for (let i = 2; names.has(name); i++) name = `${s.name} (${i})`;
    names.add(name);
    state.layers.push({ type: "segmentation", name, source: absoluteSource(s.source) });
  }
  // Tracings: a local annotation layer of line segments per tree.
  for (const s of config.skeletons || []) {
    let name = s.name;
    for (let i = 2; names.has(name); i++) name = `${s.name} (${i})`;
    names.add(name);
    state.layers.push({
      type: "annotation",
      name,
      source: "local://annotations",
      annotationColor: s.colour,
      annotations: s.lines.map((l, i) => ({ type: "line", id: String(i + 1), pointA: l.slice(0, 3), pointB: l.slice(3) })),
    });
  }
  if (config.shape) {
    state.dimensions = { x: [nm[0] * 1e-9, "m"], y: [nm[1] * 1e-9, "m"], z: [nm[2] * 1e-9, "m"] };
    // Voxel i spans [i, i + 1): the 2D viewer's pixel coordinates are the same numbers.
    state.position = [v.x, v.y, v.slice + 0.5];
    state.crossSectionScale = fit / Math.max(v.zoom, 1e-3);
    state.projectionScale = Math.max(sx, sy, sz) * 2;
  }
  return state;
}

// Neuroglancer's makeDefaultViewer would also take the whole page (its CSS makes <body> a black,
// unscrollable full-window box) and block the context menu and Ctrl+wheel everywhere; here the
// viewer is one part of a page, so those two are blocked over the viewer only (Ctrl+wheel is
// its zoom, not the browser's).
const viewer = makeMinimalViewer({
  target: container,
  showLayerDialog: false,
  resetStateWhenEmpty: false,
});
container.addEventListener("contextmenu", (e) => e.preventDefault());
container.addEventListener("wheel", (e) => e.ctrlKey && e.preventDefault(), { passive: false });
globalThis.viewer = viewer;
setDefaultInputEventBindings(viewer.inputEventBindings);
const hashBinding = viewer.registerDisposer(
  new UrlHashBinding(viewer.state, viewer.dataSourceProvider.sharedKvStoreContext),
);
viewer.registerDisposer(
  hashBinding.parseError.changed.add(() => {
    const { value } = hashBinding.parseError;
    if (value !== undefined) new StatusMessage().setErrorMessage(`Error parsing state: ${value.message}`);
  }),
);
if (location.hash.startsWith("#!")) {
  hashBinding.updateFromUrlHash();
} else {
  viewer.state.restoreState(initialState());
  hashBinding.setUrlHash();
}
// The page's link back to the 2D viewer (`a[data-view-2d]`) follows the view, in the 2D
// viewer's own fragment form.
if (config.shape) {
  const back = document.querySelector("a[data-view-2d]");
  const follow = () => {
    const p = viewer.navigationState.position.value;
    if (!back || p.length < 3 || !p.every(Number.isFinite)) return;
    const zoom = fitScale() / viewer.navigationState.zoomFactor.value;
    const slice = Math.min(Math.max(Math.floor(p[2]), 0), config.shape[2] - 1);
    back.hash = `v=${+p[0].toFixed(1)},${+p[1].toFixed(1)},${+zoom.toPrecision(4)},${slice}`;
  };
  viewer.navigationState.changed.add(follow);
  follow();
}
bindDefaultCopyHandler(viewer);
bindDefaultPasteHandler(viewer);
