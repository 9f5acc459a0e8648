/* gatekeeper cookie gate: `document.cookie` writes judged by the declarations the server's cookie gate
   uses. Inlined at the top of <head> (before the page's own scripts) after `window.__gkc` = {n: [[name
   regex, category, service id]], c: granted categories, s: granted services, r: report mode}; the
   loader updates c and s when the visitor chooses. A write passes when it deletes, or when its name
   is declared and granted and neither name nor value looks like personal data; else it is dropped,
   with a console warning and a `gatekeeper:cookie` event. */
(function (w, d) {
  var g = w.__gkc, p = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  if (!g || !p || g.on) return;
  g.on = 1;
  function find(n) {
    for (var i = 0; i < g.n.length; i++) if (new RegExp(g.n[i][0]).test(n)) return g.n[i];
  }
  function readings(t) {
    var x = [t];
    try { x.push(decodeURIComponent(t)); } catch (e) {}
    try { x.push(atob(t.replace(/-/g, "+").replace(/_/g, "/"))); } catch (e) {}
    return x;
  }
  // e-mail; phone numbers (Japanese forms too); the same shapes the server's detector looks for
  var MAIL = /[^\s@;,"<>]+@[^\s@;,"<>]+\.[^\W\d_]{2,}/,
    PHONE = /(^|[^\w+.-]|_)(\+?\d{1,3}[ .-]?)?\(?0?\d{1,4}\)?[ .-]\d{1,4}[ .-]\d{3,4}($|[^\w-]|_)|(^|\D)0[1-9]\d{8,9}($|\D)/;
  function personal(t) {
    return readings(t.normalize ? t.normalize("NFKC") : t).some(function (s) {
      return MAIL.test(s) || PHONE.test(s);
    });
  }
  function deletes(v) {
    var a = /;\s*max-age\s*=\s*([^;]*)/i.exec(v), e = /;\s*expires\s*=([^;]*)/i.exec(v);
    if (a) return /^\s*(-\d+|0+)\s*$/.test(a[1]);
    // a two-digit year is 19xx to Date.parse and 20xx to the cookie parser: not a deletion
    return !!e && /\d{4}/.test(e[1]) && Date.parse(e[1]) < Date.now();
  }
  Object.defineProperty(d, "cookie", {
    configurable: true,
    get: function () { return p.get.call(d); },
    set: function (v) {
      v = String(v);
      var pair = v.split(";")[0], i = pair.indexOf("="),
        n = (i < 0 ? "" : pair.slice(0, i)).trim(), val = pair.slice(i + 1).trim(), k = find(n), ok;
      ok = deletes(v) || ((k ? g.c.indexOf(k[1]) >= 0 || g.s.indexOf(k[2]) >= 0 : g.r) &&
        !personal(n) && !personal(val));
      if (ok) return p.set.call(d, v);
      console.warn("gatekeeper: cookie " + n + " not set (" + (k ? "not granted, or personal data" : "undeclared") + ")");
      d.dispatchEvent(new CustomEvent("gatekeeper:cookie", { detail: { name: n } }));
    }
  });
})(window, document);
