// Installed in every frame before the page's scripts: reports cookie and storage writes to the
// scanner (binding __gkScanRecord), then does what was asked, so the page behaves as without it.
(() => {
  if (window.__gkScanHooked) return;
  Object.defineProperty(window, '__gkScanHooked', {value: true});
  const post = (m) => { try { const f = window.__gkScanRecord; if (f) f(JSON.stringify(m)); } catch (e) {} };
  const caller = () => {
    const stack = (new Error()).stack || '';
    for (const line of stack.split('\n').slice(3)) {
      const m = line.match(/(https?:\/\/[^\s)]+?):\d+:\d+\)?\s*$/);
      if (m) return m[1];
    }
    return '';
  };
  try {
    const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true, enumerable: d.enumerable,
      get() { return d.get.call(this); },
      set(v) { post({t: 'cookie', v: String(v), s: caller(), o: location.href}); d.set.call(this, v); },
    });
  } catch (e) {}
  try {
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      let area = 'local';
      try { area = this === window.sessionStorage ? 'session' : 'local'; } catch (e) {}
      post({t: 'storage', a: area, k: String(k), v: String(v).slice(0, 200), o: location.origin});
      return set.apply(this, arguments);
    };
  } catch (e) {}
  try {
    if (window.CookieStore && CookieStore.prototype.set) {
      const cs = CookieStore.prototype.set;
      CookieStore.prototype.set = function (a, b) {
        const o = (a && typeof a === 'object') ? a : {name: a, value: b};
        post({t: 'cookiestore', v: o, s: caller(), o: location.href});
        return cs.apply(this, arguments);
      };
    }
  } catch (e) {}
})();
