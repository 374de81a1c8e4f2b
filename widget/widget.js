/*! Laris widget: finds [data-laris-slot] placeholders, fetches their HTML fragments in one
 * request, renders each into an open Shadow DOM. Never throws into the host page: on any
 * failure a slot stays empty. See README.md "Embedding the widget". */
(function () {
  "use strict";
  try {
    if (window.Laris) return;
    var script = document.currentScript ||
      document.querySelector("script[src*='widget.js'][data-shop]");
    if (!script) return;
    var shop = script.getAttribute("data-shop");
    var base = new URL(script.src, location.href).origin;
    var loaded = false;

    function slots() {
      return Array.prototype.slice.call(document.querySelectorAll("[data-laris-slot]"));
    }

    function render(el, html) {
      var root = el.shadowRoot || el.attachShadow({ mode: "open" });
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      root.replaceChildren(tpl.content);
    }

    function load() {
      var found = slots();
      if (!found.length || !shop) return;
      var product = found[0].getAttribute("data-product") || "";
      var names = found.map(function (el) { return el.getAttribute("data-laris-slot"); });
      var q = "product=" + encodeURIComponent(product) + "&slots=" + encodeURIComponent(names.join(","));
      var token = script.getAttribute("data-customer-token");
      if (token) q += "&customer=" + encodeURIComponent(token);
      var lang = script.getAttribute("data-lang");
      if (lang) q += "&lang=" + encodeURIComponent(lang);
      fetch(base + "/v1/shops/" + encodeURIComponent(shop) + "/fragments?" + q, { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body.fragments) return;
          found.forEach(function (el) {
            var html = body.fragments[el.getAttribute("data-laris-slot")];
            if (typeof html === "string") render(el, html);
          });
        })
        .catch(function () {});
    }

    window.Laris = {
      refresh: function () { try { load(); } catch (e) {} }
    };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { if (!loaded) { loaded = true; load(); } });
    } else {
      loaded = true;
      load();
    }
  } catch (e) { /* the host page must never see our errors */ }
})();
