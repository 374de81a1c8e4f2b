/*! Laris widget. Docs: README "Embedding the widget". */
(function (window, document) {
  "use strict";

  var VERSION = "1.0.0";
  var FEEDBACK = "feedback";
  var CHAT = "chat";
  /** Space held for a loading slot (close to its usual height), by slot type. */
  var RESERVED_HEIGHT = { similar: "360px", upsell: "360px", bundle: "360px", loyalty: "72px", for_you: "360px", feedback: "350px", chat: "64px" };
  var LOAD_MARGIN = "200px 0px";
  var TIMEOUT_MS = 8000;
  var MAX_LIMIT = 20;
  /** What an experiment's control arm may get empty. */
  var RECS = ["similar", "upsell", "bundle", "for_you"];

  var CSS =
    ":host{all:initial;display:block;color:var(--laris-text,#2b2118);" +
    "font:14px/1.4 var(--laris-font,system-ui,-apple-system,'Segoe UI',Roboto,sans-serif)}" +
    "*{box-sizing:border-box}" +
    ".laris{display:block;margin:0;padding:12px 0}" +
    ".laris-title{margin:0 0 8px;font-size:17px;font-weight:700;line-height:1.3}" +
    ".laris-list{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));" +
    "gap:12px;margin:0;padding:0;list-style:none}" +
    ".laris-item{display:block;margin:0;padding:0}" +
    ".laris-link{display:flex;flex-direction:column;gap:4px;height:100%;padding:8px;" +
    "border:1px solid #e6ddd2;border-radius:10px;background:#fff;color:inherit;text-decoration:none}" +
    ".laris-link:hover{border-color:var(--laris-accent,#b4441c)}" +
    ".laris-link:focus-visible,.laris-add:focus-visible{outline:2px solid #1a5fb4;outline-offset:2px}" +
    ".laris-img{display:block;width:100%;height:auto;aspect-ratio:1;object-fit:cover;" +
    "border-radius:6px;background:#f3ede5}" +
    ".laris-name{font-weight:600}" +
    ".laris-price,.laris-bundle-price strong{color:var(--laris-accent,#b4441c);font-weight:700}" +
    "s{color:#8a7d70;font-weight:400}" +
    ".laris-badge{padding:0 4px;border-radius:4px;background:var(--laris-accent,#b4441c);" +
    "color:#fff;font-size:12px}" +
    ".laris-reason{color:#6b5d50;font-size:12px}" +
    ".laris-bundle .laris-list{grid-template-columns:repeat(auto-fill,minmax(110px,1fr))}" +
    ".laris-bundle-offer+.laris-bundle-offer{margin-top:16px}" +
    ".laris-bundle-offer p{margin:8px 0}" +
    ".laris-bundle-price strong{font-size:16px}" +
    ".laris-add{padding:10px 16px;border:0;border-radius:8px;background:var(--laris-accent,#b4441c);" +
    "color:#fff;font:inherit;font-weight:700;cursor:pointer}" +
    ".laris-add:hover{filter:brightness(.9)}" +
    ".laris-loyalty{padding:10px 12px;border-radius:10px;background:#f6efe6}" +
    ".laris-loyalty p{margin:0 0 4px}" +
    ".laris-ladder{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0 0;padding:0;" +
    "list-style:none;font-size:12px}" +
    ".laris-ladder li{padding:2px 8px;border:1px solid #e6ddd2;border-radius:999px;background:#fff}" +
    ".laris-ladder .laris-current{border-color:#5b3a1e;background:#5b3a1e;color:#fff}" +
    ".laris-form{display:flex;flex-direction:column;align-items:start;gap:6px;max-width:560px}" +
    ".laris-input{width:100%;padding:8px;border:1px solid #e6ddd2;border-radius:8px;font:inherit}" +
    ".laris-hp{position:absolute;left:-9999px}" +
    ".laris-chat-link{display:inline-flex;align-items:baseline;flex-wrap:wrap;column-gap:8px}";

  /** Runs fn, swallowing anything it throws: the host page must never see our errors. */
  function guarded(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (e) {
        return undefined;
      }
    };
  }

  var script;
  var shop;
  var base;
  var records;
  /** Bumped by refresh(): older answers are ignored. */
  var generation = 0;
  var loadObserver = null;
  var impressionObserver = null;
  var stylesheet = null;
  var htmlPolicy;
  /** Visitor id; held: told "control" with empty RECS last time. */
  var visitor = "";
  var held = false;
  function option(el, name) {
    return el.getAttribute(name) || script.getAttribute(name) || "";
  }

  function langOf(el) {
    var raw = (option(el, "data-lang") || document.documentElement.lang || "").toLowerCase();
    var code = raw.slice(0, 2);
    if (code === "in") code = "id";
    return code === "id" || code === "en" ? code : "";
  }

  function limitOf(el) {
    var n = parseInt(option(el, "data-limit"), 10);
    return n > 0 ? String(Math.min(n, MAX_LIMIT)) : "";
  }

  /** Placeholders need a known type and a product (but feedback). */
  function findSlots(gen) {
    var found = [];
    var els = document.querySelectorAll("[data-laris-slot]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var type = el.getAttribute("data-laris-slot");
      var product = el.getAttribute("data-product") || "";
      if (!RESERVED_HEIGHT.hasOwnProperty(type) || !(product || type === FEEDBACK)) continue;
      found.push({
        el: el,
        type: type,
        product: product,
        token: option(el, "data-customer-token"),
        lang: langOf(el),
        limit: limitOf(el),
        gen: gen,
        group: null,
        shown: false
      });
    }
    return found;
  }

  /** One request per product, token, lang, limit; feedback joins its lang's first. */
  function groupSlots(recs) {
    var groups = {};
    var list = [];
    function join(rec, key) {
      var group = groups[key];
      if (!group) {
        group = groups[key] = { key: key, first: rec, slots: [], loading: false };
        list.push(group);
      }
      group.slots.push(rec);
      rec.group = group;
    }
    recs.forEach(function (rec) {
      if (rec.type !== FEEDBACK) join(rec, [rec.product, rec.token, rec.lang, rec.limit].join("\n"));
    });
    recs.forEach(function (rec) {
      if (rec.type !== FEEDBACK) return;
      var same = list.filter(function (g) { return g.first.lang === rec.lang; })[0];
      join(rec, same ? same.key : rec.lang);
    });
    return list;
  }

  function fragmentsUrl(group) {
    var rec = group.first;
    var types = [];
    group.slots.forEach(function (r) {
      if (types.indexOf(r.type) < 0) types.push(r.type);
    });
    var q = "slots=" + types.join(",");
    if (rec.product) q += "&product=" + encodeURIComponent(rec.product);
    if (rec.token) q += "&customer=" + encodeURIComponent(rec.token);
    if (rec.lang) q += "&lang=" + rec.lang;
    if (rec.limit) q += "&limit=" + rec.limit;
    if (visitor) q += "&visitor=" + visitor;
    // The chat button's question names this page (no query or fragment: nothing personal).
    if (types.indexOf(CHAT) >= 0) q += "&page=" + encodeURIComponent(location.origin + location.pathname);
    return base + "v1/shops/" + encodeURIComponent(shop) + "/fragments?" + q;
  }

  function hasContent(el) {
    return !!(el.shadowRoot && el.shadowRoot.childNodes.length);
  }

  function reserve(rec) {
    rec.el.setAttribute("data-laris-state", "loading");
    if (hasContent(rec.el) || (held && RECS.indexOf(rec.type) >= 0)) return;
    rec.heldMinHeight = rec.el.style.minHeight;
    rec.el.style.minHeight = RESERVED_HEIGHT[rec.type];
  }

  function release(rec) {
    if (rec.heldMinHeight !== undefined) {
      rec.el.style.minHeight = rec.heldMinHeight;
      rec.heldMinHeight = undefined;
    }
  }

  function finish(rec, state) {
    release(rec);
    rec.el.setAttribute("data-laris-state", state);
  }

  function loadGroup(group) {
    if (group.loading) return;
    group.loading = true;
    group.slots.forEach(function (rec) {
      if (loadObserver) loadObserver.unobserve(rec.el);
    });
    var gen = group.first.gen;
    var arm;
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
    var failAll = guarded(function () {
      group.slots.forEach(function (rec) {
        if (rec.gen === generation) showNothing(rec, "error");
      });
    });
    if (!window.fetch) return failAll();
    window.fetch(fragmentsUrl(group), { credentials: "omit", signal: abort ? abort.signal : null })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        arm = resp.headers.get("Laris-Arm");
        return resp.json();
      })
      .then(function (body) {
        if (gen !== generation) return;
        var fragments = body && body.fragments;
        if (!fragments || typeof fragments !== "object") throw new Error("no fragments");
        var shown = group.slots.filter(function (rec) { return RECS.indexOf(rec.type) >= 0; });
        if (arm && shown.length) {
          held = arm === "control" && shown.every(function (rec) { return !/\S/.test(fragments[rec.type] || ""); });
          store("laris-held", held ? shop + visitor : null);
        }
        group.slots.forEach(function (rec) {
          renderSlot(rec, fragments[rec.type]);
        });
      })
      .then(null, failAll)
      .then(function () { clearTimeout(timer); });
  }

  function renderSlot(rec, html) {
    try {
      if (typeof html !== "string" || !/\S/.test(html)) return showNothing(rec, "empty");
      var root = shadowRootOf(rec.el);
      root.innerHTML = trustedHtml(html);
      addStyles(root);
      finish(rec, "ready");
      // Impressions count recommendations only.
      if (rec.type !== FEEDBACK && rec.type !== CHAT) watchImpression(rec);
    } catch (e) {
      showNothing(rec, "error");
    }
  }

  function showNothing(rec, state) {
    try {
      if (rec.el.shadowRoot) rec.el.shadowRoot.textContent = "";
    } finally {
      finish(rec, state);
    }
  }

  function shadowRootOf(el) {
    if (el.shadowRoot) return el.shadowRoot;
    var root = el.attachShadow({ mode: "open" });
    var onClick = guarded(function (event) { handleClick(el, event); });
    root.addEventListener("click", onClick);
    root.addEventListener("auxclick", function (event) {
      if (event.button === 1) onClick(event);
    });
    // Without fetch the form posts itself.
    root.addEventListener("submit", guarded(function (event) {
      var rec = records.get(el);
      if (rec && window.fetch) {
        event.preventDefault();
        sendFeedback(rec, event.target);
      }
    }));
    return root;
  }

  /** A constructed sheet (CSP style-src 'self'), else <style>. */
  function addStyles(root) {
    if (stylesheet === null) {
      try {
        stylesheet = new CSSStyleSheet();
        stylesheet.replaceSync(CSS);
        if (!("adoptedStyleSheets" in root)) stylesheet = false;
      } catch (e) {
        stylesheet = false;
      }
    }
    if (stylesheet) {
      root.adoptedStyleSheets = [stylesheet];
    } else {
      var style = document.createElement("style");
      style.textContent = CSS;
      root.insertBefore(style, root.firstChild);
    }
  }

  /** Under an enforced Trusted Types CSP, innerHTML needs a policy; elsewhere a string. */
  function trustedHtml(html) {
    if (htmlPolicy === undefined) {
      htmlPolicy = null;
      var tt = window.trustedTypes;
      if (tt && tt.createPolicy) {
        try {
          htmlPolicy = tt.createPolicy("laris", { createHTML: function (s) { return s; } });
        } catch (e) { /* not allowed by the page: innerHTML will refuse, the slot stays empty */ }
      }
    }
    return htmlPolicy ? htmlPolicy.createHTML(html) : html;
  }

  function beacon(body, rec) {
    if (rec.token) body.customer_token = rec.token;
    if (visitor) body.visitor = visitor;
    var url = base + "v1/shops/" + encodeURIComponent(shop) + "/events";
    var json = JSON.stringify(body);
    var nav = window.navigator;
    if (nav.sendBeacon && nav.sendBeacon(url, new Blob([json], { type: "text/plain" }))) return;
    if (window.fetch) {
      window.fetch(url, { method: "POST", body: json, mode: "no-cors", credentials: "omit", keepalive: true })
        .then(null, function () {});
    }
  }

  function eventFor(rec, type, item) {
    var ev = { type: type, slot: rec.type, product: rec.product };
    if (item) ev.item = item;
    return ev;
  }

  function handleClick(host, event) {
    var rec = records.get(host);
    var target = event.target;
    if (!rec || !target || !target.closest) return;
    var link = target.closest("a[data-laris-item]");
    if (link) {
      beacon(eventFor(rec, "click", link.getAttribute("data-laris-item")), rec);
      return;
    }
    var button = target.closest("[data-laris-add]");
    if (button) addToCart(rec, button);
  }

  function addToCart(rec, button) {
    var products = (button.getAttribute("data-laris-add") || "").split(",")
      .map(function (s) { return s.trim(); })
      .filter(Boolean);
    if (!products.length) return;
    var quantities = (button.getAttribute("data-laris-quantities") || "").split(",")
      .map(function (s) { return parseInt(s, 10) || 1; });
    while (quantities.length < products.length) quantities.push(1);
    quantities.length = products.length;
    beacon({ events: products.map(function (id) { return eventFor(rec, "add_to_cart", id); }) }, rec);
    rec.el.dispatchEvent(new CustomEvent("laris:add-to-cart", {
      detail: { products: products, quantities: quantities, slot: rec.type, product: rec.product },
      bubbles: true,
      composed: true
    }));
  }

  function watchImpression(rec) {
    if (!window.IntersectionObserver) return sendImpression(rec);
    if (!impressionObserver) {
      impressionObserver = new IntersectionObserver(guarded(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
            impressionObserver.unobserve(entry.target);
            var current = records.get(entry.target);
            if (current) sendImpression(current);
          }
        });
      }), { threshold: 0.5 });
    }
    impressionObserver.observe(rec.el);
  }

  function sendImpression(rec) {
    if (rec.shown || rec.gen !== generation) return;
    rec.shown = true;
    beacon(eventFor(rec, "impression"), rec);
  }

  /** Posts the form as JSON (text/plain: no preflight); its live region then says how it went. */
  function sendFeedback(rec, form) {
    var button = form.querySelector("[type=submit]");
    var say = function (text) {
      var out = form.querySelector("[aria-live]");
      if (out) out.textContent = text || form.getAttribute("data-laris-failed") || "";
      if (button) button.disabled = false;
    };
    var body = { page: location.href.slice(0, 500) };
    new FormData(form).forEach(function (value, name) { body[name] = value; });
    if (rec.product) body.product = rec.product;
    if (button) button.disabled = true;
    window.fetch(base + "v1/shops/" + encodeURIComponent(shop) + "/feedback",
      { method: "POST", body: JSON.stringify(body), credentials: "omit" })
      .then(function (resp) {
        return resp.json().then(function (answer) {
          if (!resp.ok) return say(answer.error);
          form.reset();
          say(form.getAttribute("data-laris-sent"));
        });
      })
      .then(null, function () { say(""); });
  }

  function scan() {
    generation += 1;
    if (loadObserver) loadObserver.disconnect();
    if (impressionObserver) impressionObserver.disconnect();
    loadObserver = null;
    var recs = findSlots(generation);
    if (!shop || !recs.length) return;
    var groups = groupSlots(recs);
    recs.forEach(function (rec) {
      var old = records.get(rec.el);
      if (old) release(old);
      records.set(rec.el, rec);
      reserve(rec);
    });
    if (!window.IntersectionObserver) {
      groups.forEach(loadGroup);
      return;
    }
    loadObserver = new IntersectionObserver(guarded(function (entries) {
      entries.forEach(function (entry) {
        var rec = records.get(entry.target);
        if (entry.isIntersecting && rec) loadGroup(rec.group);
      });
    }), { rootMargin: LOAD_MARGIN });
    recs.forEach(function (rec) { loadObserver.observe(rec.el); });
  }

  /** 20000 → "Rp20.000"; -1500 → "-Rp1.500"; not a number → "". */
  function formatRupiah(n) {
    var value = Math.round(Number(n));
    if (!isFinite(value)) return "";
    var digits = String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (value < 0 ? "-" : "") + "Rp" + digits;
  }

  /** localStorage get (no value), set, or remove (null). */
  function store(key, value) {
    try {
      var ls = window.localStorage;
      if (value === undefined) return ls.getItem(key);
      if (value === null) ls.removeItem(key);
      else ls.setItem(key, value);
    } catch (e) { /* no storage: no visitor id */ }
  }

  /** 16 random bytes as hex; none with data-no-tracking or GPC. */
  function visitorId() {
    if (script.hasAttribute("data-no-tracking") || navigator.globalPrivacyControl === true) return "";
    var id = store("laris-visitor");
    if (!/^[0-9a-f]{32}$/.test(id)) {
      id = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
      store("laris-visitor", id);
    }
    return store("laris-visitor") === id ? id : "";
  }

  function start() {
    if (window.Laris && window.Laris.version) return; // loaded twice: the first copy serves
    script = document.currentScript ||
      document.querySelector("script[data-shop][src*='widget']");
    if (!script || !script.src) return;
    shop = script.getAttribute("data-shop") || "";
    base = new URL(".", script.src).href;
    records = new WeakMap();
    visitor = guarded(visitorId)() || "";
    held = !!visitor && store("laris-held") === shop + visitor;
    window.Laris = {
      version: VERSION,
      refresh: guarded(scan),
      formatRupiah: guarded(formatRupiah),
      purchase: guarded(function (p) {
        beacon({ type: "purchase", order: p.order, total: p.total, items: p.items || [] }, {});
      })
    };
    var go = guarded(function () {
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", guarded(scan));
      else scan();
    });
    // A visitor's first page: learn the arm before holding space for any slot.
    if (visitor && store("laris-seen") !== shop + visitor && window.fetch) {
      window.fetch(base + "v1/shops/" + encodeURIComponent(shop) + "/arm?visitor=" + visitor, { credentials: "omit" })
        .then(function (r) { return r.json(); })
        .then(function (a) {
          held = a.held === true;
          store("laris-held", held ? shop + visitor : null);
          store("laris-seen", shop + visitor);
        })
        .then(go, go);
    } else {
      go();
    }
  }

  guarded(start)();
})(window, document);
