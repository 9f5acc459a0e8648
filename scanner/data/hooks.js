// Installed in every frame before the page's scripts: reports cookie, storage and IndexedDB writes and
// fingerprinting (canvas, font probing, WebGL, audio) to the scanner (binding __gkScanRecord), each with
// the script that did it, then does what was asked, so the page behaves as without it.
(() => {
  if (window.__gkScanHooked) return;
  Object.defineProperty(window, '__gkScanHooked', {value: true});
  const post = (m) => { try { const f = window.__gkScanRecord; if (f) f(JSON.stringify(m)); } catch (e) {} };
  // The first script URL on the stack: this hook has none (it is evaluated, not loaded).
  const caller = () => {
    const stack = (new Error()).stack || '';
    for (const line of stack.split('\n').slice(1)) {
      const m = line.match(/(https?:\/\/[^\s)]+?):\d+:\d+\)?\s*$/);
      if (m) return m[1];
    }
    return '';
  };
  const wrap = (proto, name, before) => {
    try {
      const f = proto && proto[name];
      if (typeof f !== 'function') return;
      proto[name] = function () { try { before.call(this, arguments); } catch (e) {} return f.apply(this, arguments); };
    } catch (e) {}
  };
  try {
    const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true, enumerable: d.enumerable,
      get() { return d.get.call(this); },
      set(v) { post({t: 'cookie', v: String(v), s: caller(), o: location.href}); d.set.call(this, v); },
    });
  } catch (e) {}
  wrap(window.Storage && Storage.prototype, 'setItem', function (a) {
    let area = 'local';
    try { area = this === window.sessionStorage ? 'session' : 'local'; } catch (e) {}
    post({t: 'storage', a: area, k: String(a[0]), v: String(a[1]).slice(0, 200), s: caller(), o: location.origin});
  });
  wrap(window.CookieStore && CookieStore.prototype, 'set', function (a) {
    const o = (a[0] && typeof a[0] === 'object') ? a[0] : {name: a[0], value: a[1]};
    post({t: 'cookiestore', v: o, s: caller(), o: location.href});
  });
  const idb = function (a) {
    let key = a[1];
    if (key === undefined && this.keyPath && a[0] && typeof a[0] === 'object') key = a[0][this.keyPath];
    let value = '';
    try { value = JSON.stringify(a[0]); } catch (e) { value = String(a[0]); }
    post({t: 'idb', k: this.transaction.db.name + '/' + this.name + '/' + String(key),
          v: String(value).slice(0, 200), s: caller(), o: location.origin});
  };
  wrap(window.IDBObjectStore && IDBObjectStore.prototype, 'put', idb);
  wrap(window.IDBObjectStore && IDBObjectStore.prototype, 'add', idb);

  // Fingerprinting: each technique reported once per script and frame.
  const said = new Set();
  const report = (k, d) => {
    const s = caller();
    if (said.has(k + ' ' + s)) return;
    said.add(k + ' ' + s);
    post({t: 'api', k, d, s, o: location.href});
  };
  const texted = new WeakSet();
  const C2D = window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype;
  for (const m of ['fillText', 'strokeText']) wrap(C2D, m, function () { texted.add(this.canvas); });
  const readback = (canvas, how) => {
    if (canvas && texted.has(canvas) && canvas.width >= 16 && canvas.height >= 16)
      report('canvas', how + ' of a ' + canvas.width + 'x' + canvas.height + ' canvas with text drawn on it');
  };
  const CANVAS = window.HTMLCanvasElement && HTMLCanvasElement.prototype;
  wrap(CANVAS, 'toDataURL', function () { readback(this, 'toDataURL'); });
  wrap(CANVAS, 'toBlob', function () { readback(this, 'toBlob'); });
  wrap(C2D, 'getImageData', function () { readback(this.canvas, 'getImageData'); });
  const families = new Map();
  wrap(C2D, 'measureText', function () {
    const family = String(this.font || '').replace(/^.*?[\d.]+(px|pt|em|rem|%)\s*(\/\s*\S+\s*)?/, '').trim();
    const s = caller();
    let seen = families.get(s);
    if (!seen) { seen = new Set(); families.set(s, seen); }
    seen.add(family);
    if (seen.size === 20) report('font-enumeration', 'measureText in 20 font families, e.g. ' + [...seen].slice(0, 5).join(', '));
  });
  const GL_NAMES = {0x9245: 'UNMASKED_VENDOR_WEBGL', 0x9246: 'UNMASKED_RENDERER_WEBGL'};
  for (const gl of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    wrap(gl && gl.prototype, 'getParameter', function (a) {
      if (GL_NAMES[a[0]]) report('webgl', 'getParameter(' + GL_NAMES[a[0]] + ')');
    });
  }
  const oscillating = new WeakSet();
  wrap(window.BaseAudioContext && BaseAudioContext.prototype, 'createOscillator', function () { oscillating.add(this); });
  wrap(window.OfflineAudioContext && OfflineAudioContext.prototype, 'startRendering', function () {
    if (oscillating.has(this)) report('audio', 'an oscillator rendered in an OfflineAudioContext');
  });
})();
