// vitrine: gallery filters and copy buttons. No framework, no network beyond the site's own
// search-index.json; without JavaScript every card and link still works.
(function () {
  "use strict";

  function norm(s) {
    return (s || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  /** Everything a search matches in one search-index.json entry, normalised. */
  function entryText(it) {
    return norm([it.name, it.summary, (it.tags || []).join(" "), (it.authors || []).join(" "),
      it.species, it.region, it.modality].join(" "));
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  /** A card like partials/card.html's, from a search-index.json entry (text only, never HTML):
   * for datasets on other pages of a paged gallery. */
  function entryCard(it, base) {
    var li = el("li", "card");
    li.dataset.slug = it.slug;
    var a = el("a", "card-link");
    a.href = new URL(it.url, base).href;
    var media = el("span", "card-media");
    var img = el("img");
    img.src = new URL(it.image.src, base).href;
    img.width = it.image.width;
    img.height = it.image.height;
    img.alt = it.image.alt || "";
    img.loading = "lazy";
    img.decoding = "async";
    media.appendChild(img);
    a.appendChild(media);
    a.appendChild(el("span", "card-title", it.name));
    li.appendChild(a);
    var facets = [it.modality, it.species, it.region].filter(Boolean);
    if (facets.length) {
      var p = el("p", "card-facets");
      facets.forEach(function (f) { p.appendChild(el("span", "", f)); });
      li.appendChild(p);
    }
    if (it.summary) li.appendChild(el("p", "card-summary", it.summary));
    if (it.authors && it.authors.length) li.appendChild(el("p", "card-authors", it.authors.join(", ")));
    return li;
  }

  /** Cards shown at most when a search of a paged gallery finds more. */
  var MAX_RESULTS = 120;

  function setupFilters(form) {
    var grid = document.querySelector("[data-grid]");
    if (!grid) return;
    var cards = Array.prototype.slice.call(grid.children);
    var count = document.querySelector("[data-count]");
    var empty = document.querySelector("[data-empty]");
    var results = document.querySelector("[data-results]");
    var pager = document.querySelector("[data-pagination]");
    var pageCount = count.textContent;
    // A paged gallery holds one page of cards; a search looks through the whole index.
    var total = Number(form.dataset.total) || cards.length;
    var paged = total > cards.length && results;
    var index = null;
    var base = new URL(form.dataset.index, location.href);
    var text = {};
    cards.forEach(function (card) { text[card.dataset.slug] = norm(card.textContent); });

    // The index adds what a card leaves out (every author, facets); the page works without it.
    fetch(base).then(function (r) { return r.ok ? r.json() : []; }).then(function (items) {
      items.forEach(function (it) {
        it.text = entryText(it);
        if (it.slug in text) text[it.slug] = it.text;
      });
      index = items;
      apply();
    }).catch(function () {});

    function filters() {
      return {
        q: norm(form.elements.q.value).split(/\s+/).filter(Boolean),
        tag: form.elements.tag ? form.elements.tag.value : "",
        facets: Array.prototype.filter.call(form.querySelectorAll("[data-facet]"), function (s) { return s.value; })
      };
    }

    /** Filters this page's cards (every card, on a gallery that is not paged). */
    function applyToCards(f) {
      var shown = 0;
      cards.forEach(function (card) {
        var ok = (!f.tag || (" " + card.dataset.tags).indexOf(" " + f.tag + " ") >= 0) &&
          f.facets.every(function (s) { return card.dataset[s.dataset.facet] === s.value; }) &&
          f.q.every(function (w) { return text[card.dataset.slug].indexOf(w) >= 0; });
        card.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown === cards.length ? pageCount : shown + " of " + cards.length + " datasets";
      if (empty) empty.hidden = shown > 0;
    }

    /** Shows the datasets of the whole index that match, in place of this page's cards. */
    function applyToIndex(f) {
      var found = index.filter(function (it) {
        return (!f.tag || (it.tag_slugs || []).indexOf(f.tag) >= 0) &&
          f.facets.every(function (s) { return it[s.dataset.facet] === s.value; }) &&
          f.q.every(function (w) { return it.text.indexOf(w) >= 0; });
      });
      var list = document.createDocumentFragment();
      found.slice(0, MAX_RESULTS).forEach(function (it) { list.appendChild(entryCard(it, base)); });
      results.replaceChildren(list);
      count.textContent = found.length + " of " + total + " datasets" + (found.length > MAX_RESULTS
        ? ", the first " + MAX_RESULTS + " shown: add a word or a filter to narrow them" : "");
      if (empty) empty.hidden = found.length > 0;
    }

    // A text field fires `change` again when it loses focus: the click that takes it away from
    // the search must not meet a list rebuilt under the pointer, so an unchanged search is not
    // applied again.
    var applied = null;
    function apply() {
      var f = filters();
      var signature = JSON.stringify([f.q, f.tag, f.facets.map(function (s) { return s.name + "=" + s.value; }), !!index]);
      if (signature === applied) return;
      applied = signature;
      var filtering = f.q.length > 0 || f.tag || f.facets.length > 0;
      var searchIndex = paged && filtering && index;
      grid.hidden = !!searchIndex;
      if (pager) pager.hidden = !!searchIndex;
      if (results) results.hidden = !searchIndex;
      if (searchIndex) {
        applyToIndex(f);
      } else {
        if (results) results.replaceChildren();
        applyToCards(f);
      }
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
