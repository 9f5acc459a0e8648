// Finds a consent banner in this frame and marks the buttons to click (see scanner/banners.py).
// Runs as page.evaluate(source, args); args: {known, accept, reject, context, reopen}.
(args) => {
  const A = 'data-gk-scan';
  const roots = [document];
  const seen = new Set();
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot && !seen.has(el.shadowRoot)) { seen.add(el.shadowRoot); roots.push(el.shadowRoot); walk(el.shadowRoot); }
    }
  };
  walk(document);
  for (const r of roots) for (const el of r.querySelectorAll('[' + A + '], [' + A + '-root]')) {
    el.removeAttribute(A); el.removeAttribute(A + '-root');
  }
  const all = (sel) => { const out = []; for (const r of roots) { try { out.push(...r.querySelectorAll(sel)); } catch (e) {} } return out; };
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const rect = el.getBoundingClientRect();
    if (rect.width < 2 || rect.height < 2) return false;
    // what Playwright checks before a click: closed <details>, content-visibility, hidden ancestors
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return false;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) < 0.05) return false;
    }
    return true;
  };
  const firstVisible = (sels) => { for (const s of sels) for (const el of all(s)) if (visible(el)) return el; return null; };
  const mark = (el, role) => { if (el) el.setAttribute(A, role); return !!el; };
  const want = args.reopen;
  for (const k of args.known) {
    const rootEls = all(k.root);
    if (!rootEls.length) continue;
    const accept = firstVisible(k.accept), reject = firstVisible(k.reject);
    const reopen = (!reject && want) ? firstVisible(k.reopen) : null;
    const shown = rootEls.some(visible);
    if (!shown && !accept && !reject && !reopen) continue;
    (rootEls.find(visible) || rootEls[0]).setAttribute(A + '-root', k.id);
    return {kind: k.id, accept: mark(accept, 'accept'), reject: mark(reject, 'reject'),
            reopen: mark(reopen, 'reopen'), shown, note: ''};
  }
  // No known platform: a visible dialog or fixed box about cookies with matching buttons.
  const rejectRe = new RegExp(args.reject, 'i'), acceptRe = new RegExp(args.accept, 'i');
  const contextRe = new RegExp(args.context, 'i');
  const candidates = new Set(all('[role=dialog], [role=alertdialog], [aria-modal=true], dialog[open], ' +
    '[id*=cookie i], [class*=cookie i], [id*=consent i], [class*=consent i], [id*=gdpr i], [class*=gdpr i], ' +
    '[id*=banner i], [class*=banner i], [id*=privacy i], [class*=privacy i]'));
  const body = document.body;
  if (body) {
    const near = body.querySelectorAll(':scope > *, :scope > * > *, :scope > * > * > *');
    if (near.length < 4000) for (const el of near) {
      const p = getComputedStyle(el).position;
      if (p === 'fixed' || p === 'sticky') candidates.add(el);
    }
  }
  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || el.title || '')
    .replace(/\s+/g, ' ').trim();
  let best = null;
  for (const box of candidates) {
    if (!visible(box) || box === body || box === document.documentElement) continue;
    const text = (box.innerText || '').slice(0, 5000);
    const named = (box.id || '') + ' ' + (typeof box.className === 'string' ? box.className : '');
    if (!contextRe.test(text) && !contextRe.test(named)) continue;
    let accept = null, reject = null;
    for (const b of box.querySelectorAll('button, a, [role=button], input[type=button], input[type=submit]')) {
      if (!visible(b)) continue;
      const t = label(b);
      if (!t || t.length > 60) continue;
      if (!reject && rejectRe.test(t)) reject = b;
      else if (!accept && acceptRe.test(t) && !rejectRe.test(t)) accept = b;
    }
    if (!accept && !reject) continue;
    const size = box.querySelectorAll('*').length;
    if (!best || size < best.size) best = {box, accept, reject, size};
  }
  if (!best) return null;
  best.box.setAttribute(A + '-root', 'text');
  return {kind: 'text', accept: mark(best.accept, 'accept'), reject: mark(best.reject, 'reject'),
          reopen: false, shown: true,
          note: 'matched by words: ' + [best.accept, best.reject].filter(Boolean).map(label).join(' / ')};
}
