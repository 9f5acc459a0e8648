/* gatekeeper loader: in-page consent. Turns inert third-party markup back on once its services are
   granted, drives the banner and the placeholders through the JSON endpoint, updates Google Consent
   Mode and fires `gatekeeper:consent`. Without it every control still works as a plain form. */
(function () {
  "use strict";
  var d = document, me = d.currentScript;
  if (!me || window.__gk) return;
  window.__gk = 1;
  var P = me.getAttribute("data-gk-prefix"),
    // services the page's CSP lets through: granted when it was served
    served = words(me.getAttribute("data-gk-granted")),
    enforced = me.getAttribute("data-gk-csp") == "1",
    saleShare = words(me.getAttribute("data-gk-ss")),
    CM = /*CM*/{},
    // what renamed attribute comes back first: srcset before src, so only one image is fetched
    ATTRS = ["srcset", "imagesrcset", "src", "href", "data", "poster", "srcdoc", "style", "http-equiv"],
    current = served,
    busy,
    // in an XHTML page (an XML document) names keep their case and elements their namespace
    XH = "http://www.w3.org/1999/xhtml",
    XL = "http://www.w3.org/1999/xlink";

  function words(s) { return s ? s.split(" ") : []; }
  function all(sel, root) { return [].slice.call((root || d).querySelectorAll(sel)); }
  function has(list, x) { return list.indexOf(x) >= 0; }
  function is(el, name) { return el.localName == name && el.namespaceURI == XH; }
  function box() { return d.querySelector("[data-gk-box]"); }
  function close(b) {
    var s = b.querySelector("summary");
    b.open = false;
    if (s) s.focus();
  }

  // -- activation: the inert-markup contract of docs/ARCHITECTURE.md, in reverse ----------------
  // a style sheet or style attribute kept live: the mark before each of its URLs that waits for a
  // service (gatekeeper/rewrite/css_edits.py) goes once that service is granted
  function unmark(el, ok) {
    function cut(s) {
      return s.replace(/https:\/\/\[gk\]\/([^/]*)\//g, function (m, id) { return has(ok, id) ? "" : m; });
    }
    var s = el.getAttribute("style");
    if (s) el.setAttribute("style", cut(s));
    if (el.localName == "style") el.textContent = cut(el.textContent);
  }

  function ready(el, ok) {
    var need = words(el.getAttribute("data-gk"));
    return need.length && need.every(function (s) { return s != "?" && has(ok, s); });
  }

  function wake(el) {
    ATTRS.forEach(function (a) {
      var v = el.getAttribute("data-gk-" + a);
      if (v != null) { el.setAttribute(a, v); el.removeAttribute("data-gk-" + a); }
    });
    var x = el.getAttributeNS(XL, "data-gk-href"); // xlink:data-gk-href, as an XML page has it
    if (x != null) { el.setAttributeNS(XL, "xlink:href", x); el.removeAttributeNS(XL, "data-gk-href"); }
    el.removeAttribute("data-gk");
    var ph = el.previousElementSibling, up = el.parentNode;
    if (ph && ph.hasAttribute("data-gk-ph")) {
      ph.remove();
      if (!el.hasAttribute("data-gk-hidden")) el.hidden = false;
    }
    el.removeAttribute("data-gk-hidden");
    if (is(el, "source") && up.load) up.load();
    // a refresh is acted on when the element is inserted, not when its attribute changes
    if (is(el, "meta")) up.replaceChild(el.cloneNode(), el);
  }

  // Scripts (and styles) only run when inserted: re-create them one by one, in document order,
  // waiting for each external script so the page's order of execution is kept.
  function recreate(queue) {
    var el = queue.shift();
    if (!el) return;
    var n = d.createElementNS(el.namespaceURI, (el.prefix ? el.prefix + ":" : "") + el.localName),
      ext, ph = el.previousElementSibling;
    // a share button drawn by a script (LinkedIn's) had a share link before it
    if (ph && ph.hasAttribute("data-gk-ph")) ph.remove();
    [].forEach.call(el.attributes, function (a) {
      var k = a.namespaceURI ? a.localName : a.name;
      if (k == "type" || k == "data-gk" || k == "data-gk-css") return;
      if (!k.indexOf("data-gk-")) k = k.slice(8);
      if (a.namespaceURI) n.setAttributeNS(a.namespaceURI, (a.prefix ? a.prefix + ":" : "") + k, a.value);
      else n.setAttribute(k, a.value);
    });
    n.textContent = el.textContent;
    ext = n.localName == "script" && (n.src || n.getAttribute("href") || n.getAttributeNS(XL, "href"));
    if (ext) n.onload = n.onerror = function () { recreate(queue); };
    el.parentNode.replaceChild(n, el);
    if (!ext) recreate(queue);
  }

  function activate(ok, root) {
    var queue = [];
    all("[data-gk]", root).forEach(function (el) {
      if (el.hasAttribute("data-gk-css")) unmark(el, ok);
      if (!ready(el, ok)) return;
      // (an SVG one as well: it is made inert by its type, and runs only when inserted)
      if (el.localName == "script" || el.localName == "style") queue.push(el);
      else wake(el);
    });
    recreate(queue);
  }

  // -- Consent Mode v2: the head snippet said `default`; a choice says `update` -------------------
  function consentMode(s) {
    var o = {}, c;
    for (c in CM) CM[c].forEach(function (t) {
      o[t] = c == "necessary" || s.categories[c] ? "granted" : "denied";
    });
    // under GPC, sending data for advertising needs an explicit opt-in to a sale/share service
    if (s.gpc && !saleShare.some(function (x) { return s.services[x]; })) {
      o.ad_user_data = o.ad_personalization = "denied";
    }
    window.dataLayer = window.dataLayer || [];
    (function () { window.dataLayer.push(arguments); })("consent", "update", o);
  }

  // -- a choice was made: show it, tell the page, bring things on (or reload) ---------------------
  function apply(s) {
    var now = [], k, b = box();
    for (k in s.services) if (s.services[k]) now.push(k);
    var lost = current.some(function (x) { return !has(now, x); }),
      blocked = enforced && now.some(function (x) { return !has(served, x); });
    current = now;
    consentMode(s);
    // the in-page cookie gate (snippets/cookie_gate.js) follows the choice at once
    var g = window.__gkc;
    if (g) {
      g.s = now;
      g.c = ["necessary", "required"];
      for (k in s.categories) if (s.categories[k]) g.c.push(k);
    }
    all("input[name=category]").forEach(function (i) { i.checked = !!s.categories[i.value]; });
    all("input[name=service]").forEach(function (i) {
      if (i.type == "checkbox") i.checked = !!s.services[i.value];
    });
    all("[data-gk-decided]").forEach(function (r) { r.setAttribute("data-gk-decided", "1"); });
    // the receipt of the choice just made (the server's own rendering of it), when records are kept
    // (read by an HTML parser: in an XHTML page innerHTML would parse it as XML, and refuse it)
    if (s.receipt) all("[data-gk-receipt-slot]").forEach(function (r) {
      var doc = new DOMParser().parseFromString(s.receipt.html, "text/html");
      r.replaceChildren.apply(r, [].map.call(doc.body.childNodes, function (n) { return d.importNode(n, true); }));
    });
    if (b && b.open) {
      // reopened later, it shows the choice just made, as a server-rendered page would
      all("details", b).forEach(function (x) { x.open = true; });
      close(b);
    }
    d.dispatchEvent(new CustomEvent("gatekeeper:consent", { detail: s }));
    // the page's CSP was built for what was granted when it was served, and a page cannot widen
    // its own CSP; withdrawing has to take live elements away: both need a fresh page
    if (lost || blocked) {
      activate(now.filter(function (x) { return has(served, x); }));
      location.reload();
    } else {
      activate(now);
    }
  }

  function picked(f, name) {
    return all("input[name=" + name + "]", f)
      .filter(function (i) { return i.type != "checkbox" || i.checked; })
      .map(function (i) { return i.value; });
  }

  d.addEventListener("submit", function (e) {
    var f = e.target, b = e.submitter, choice = b && b.name == "choice" ? b.value : "",
      // a placeholder's buttons belong to the form #gk-phf (it may stand in a <p>)
      ph = b && b.closest("[data-gk-ph]");
    if ((f.getAttribute("action") || "").split("?")[0] != P + "consent" || !choice) return;
    if (choice == "once") {
      var el = ph && ph.nextElementSibling;
      // under an enforced CSP (or for an embed that needs more than itself) the server serves it
      if (enforced || !el || !el.hasAttribute("data-gk-src")) return;
      e.preventDefault();
      var ok = words(el.getAttribute("data-gk"));
      wake(el);
      activate(ok, el); // its own inert children: a video's sources, a picture's img
      return;
    }
    e.preventDefault();
    if (busy) return;
    busy = 1;
    var wide = choice == "custom" || choice == "allow";
    // the language the visitor read the choice in, for the consent record
    fetch(P + "consent?lang=" + encodeURIComponent((b.closest("[lang]") || d.documentElement).lang), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        choice: choice,
        next: location.pathname,
        categories: wide ? picked(f, "category") : [],
        services: ph ? words(ph.getAttribute("data-gk-services")) : wide ? picked(f, "service") : []
      })
    })
      .then(function (r) {
        if (!r.ok) throw r;
        return r.json();
      })
      .then(function (s) {
        busy = 0;
        apply(s);
      }, function () {
        // the endpoint did not answer as expected: the plain form still does the job
        var i = d.createElementNS(XH, "input");
        i.type = "hidden";
        i.name = "choice";
        i.value = choice;
        f.appendChild(i);
        if (ph) f.action = b.formAction;
        f.submit();
      });
  });

  // Settings: a category's box speaks for its services, and the other way round.
  d.addEventListener("change", function (e) {
    var i = e.target, g = i.closest && i.closest("[data-gk-cat]");
    if (!g || i.type != "checkbox") return;
    var cat = g.querySelector("input[name=category]"), svcs = all("input[name=service]", g);
    if (i == cat) {
      svcs.forEach(function (x) { x.checked = cat.checked; });
    } else {
      var on = svcs.filter(function (x) { return x.checked; }).length;
      cat.checked = on == svcs.length;
      cat.indeterminate = on > 0 && on < svcs.length;
    }
  });

  d.addEventListener("keydown", function (e) {
    var b = box();
    if (e.key == "Escape" && b && b.open && b.closest("[data-gk-decided='1']")) close(b);
  });

  // The banner is fixed (it never moves the page), so it could hide the end of a page or what gets
  // focus: the style sheet keeps a spacer and scroll-padding of --gk-h at the bottom; this measures it.
  var bx = box(), root = d.documentElement;
  function part() { return bx.querySelector(bx.open ? "[data-gk-banner]" : "summary"); }
  function fit() {
    var r = part() && part().getBoundingClientRect();
    root.style.setProperty("--gk-h", r && r.height ? innerHeight - r.top + "px" : "0px");
  }
  if (bx && window.ResizeObserver) {
    var ro = new ResizeObserver(fit);
    all("[data-gk-banner], summary", bx).forEach(function (el) { ro.observe(el); });
    addEventListener("resize", fit);
    fit();
  }

  // First visit: the banner comes first for keyboard and screen-reader users too.
  var dlg = d.querySelector("[data-gk-decided='0'] [data-gk-banner]");
  if (dlg && (d.activeElement == d.body || !d.activeElement)) dlg.focus({ preventScroll: true });
})();
