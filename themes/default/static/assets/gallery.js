// vitrine: gallery filters and copy buttons. No framework, no network beyond the site's own
// search-index.json; without JavaScript every card and link still works.
(function () {
  "use strict";

  function norm(s) {
    return (s || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function setupFilters(form) {
    var grid = document.querySelector("[data-grid]");
    if (!grid) return;
    var cards = Array.prototype.slice.call(grid.children);
    var count = document.querySelector("[data-count]");
    var empty = document.querySelector("[data-empty]");
    var text = {};
    cards.forEach(function (card) { text[card.dataset.slug] = norm(card.textContent); });

    // The index adds what a card leaves out (every author, facets); the page works without it.
    fetch(form.dataset.index).then(function (r) { return r.ok ? r.json() : []; }).then(function (items) {
      items.forEach(function (it) {
        if (!(it.slug in text)) return;
        text[it.slug] = norm([it.name, it.summary, (it.tags || []).join(" "), (it.authors || []).join(" "),
          it.species, it.region, it.modality].join(" "));
      });
      apply();
    }).catch(function () {});

    function apply() {
      var q = norm(form.elements.q.value).split(/\s+/).filter(Boolean);
      var tag = form.elements.tag ? form.elements.tag.value : "";
      var facets = Array.prototype.filter.call(form.querySelectorAll("[data-facet]"), function (s) { return s.value; });
      var shown = 0;
      cards.forEach(function (card) {
        var ok = (!tag || (" " + card.dataset.tags).indexOf(" " + tag + " ") >= 0) &&
          facets.every(function (s) { return card.dataset[s.dataset.facet] === s.value; }) &&
          q.every(function (w) { return text[card.dataset.slug].indexOf(w) >= 0; });
        card.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown === cards.length
        ? cards.length + (cards.length === 1 ? " dataset" : " datasets")
        : shown + " of " + cards.length + " datasets";
      if (empty) empty.hidden = shown > 0;
      var params = new URLSearchParams();
      Array.prototype.forEach.call(form.elements, function (el) { if (el.name && el.value) params.set(el.name, el.value); });
      var qs = params.toString();
      history.replaceState(null, "", qs ? "?" + qs : location.pathname);
    }

    // Filters live in the query string, so a filtered gallery can be bookmarked and shared.
    var initial = new URLSearchParams(location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && initial.has(el.name)) el.value = initial.get(el.name);
    });
    // On a phone the facets fold behind a button, so the first cards show without scrolling;
    // they unfold by themselves when the address already filters by one.
    var toggle = form.querySelector("[data-filter-toggle]");
    var more = form.querySelector("[data-filter-more]");
    if (toggle && more) {
      var open = function (yes) {
        more.classList.toggle("open", yes);
        toggle.setAttribute("aria-expanded", yes ? "true" : "false");
      };
      open(Array.prototype.some.call(more.querySelectorAll("select"), function (s) { return s.value; }));
      toggle.addEventListener("click", function () { open(!more.classList.contains("open")); });
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    form.hidden = false;
    apply();
  }

  function setupCopy(button) {
    var source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      }, function () {
        var range = document.createRange();
        range.selectNodeContents(source);
        var sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      });
    });
  }

  // On a host without a gate a service worker decrypts the private pages' files, but browsers
  // send a download (`<a download>`) past it and would save the sealed bytes: on a page a worker
  // controls, the file is fetched through the worker and saved from memory.
  function setupDownloads() {
    if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    document.addEventListener("click", function (e) {
      var a = e.target.closest && e.target.closest("a[download]");
      if (!a || a.protocol === "blob:" || a.origin !== location.origin || e.defaultPrevented ||
        e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      fetch(a.href, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.blob();
      }).then(function (blob) {
        var save = document.createElement("a");
        save.href = URL.createObjectURL(blob);
        save.download = a.getAttribute("download") || "";
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(save.href); }, 60000);
      }).catch(function () { location.href = a.href; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-filters]");
    if (form) setupFilters(form);
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), setupCopy);
    setupDownloads();
  });
})();
