// What the banner found by detect_banner.js says and offers: its text (settings layer included), its
// links, how its accept and reject buttons look, and which consent boxes are ticked before any choice.
() => {
  const A = 'data-gk-scan';
  const find = (sel) => {
    const stack = [document];
    while (stack.length) {
      const r = stack.pop();
      const el = r.querySelector(sel);
      if (el) return el;
      for (const e of r.querySelectorAll('*')) if (e.shadowRoot) stack.push(e.shadowRoot);
    }
    return null;
  };
  const root = find('[' + A + '-root]');
  if (!root) return null;
  const rgb = (s) => {
    const m = String(s).match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(parseFloat);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const label = (el) => (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim().slice(0, 80);
  const bannerBg = background(root);
  const look = (el) => {
    if (!el) return null;
    const s = getComputedStyle(el), box = el.getBoundingClientRect();
    const own = rgb(s.backgroundColor);
    let fill = own && own.a > 0.5 ? contrast(own, bannerBg) : 1;
    const border = parseFloat(s.borderTopWidth) || 0, bc = rgb(s.borderTopColor);
    if (fill < 1.1 && border >= 1 && s.borderTopStyle !== 'none' && bc && bc.a > 0.5) fill = Math.max(fill, contrast(bc, bannerBg));
    const text = rgb(s.color) || {r: 0, g: 0, b: 0, a: 1};
    return {label: label(el), width: box.width, height: box.height, text_contrast: contrast(text, background(el)),
            fill_contrast: fill, font_px: parseFloat(s.fontSize) || 0};
  };
  const ticked = [];
  for (const box of root.querySelectorAll('input[type=checkbox], [role=switch], [role=checkbox]')) {
    const on = box.matches('input') ? box.checked : box.getAttribute('aria-checked') === 'true';
    const locked = box.disabled || box.getAttribute('aria-disabled') === 'true';
    if (!on || locked) continue;
    const lab = (box.labels && box.labels[0]) || box.closest('label');
    ticked.push(((lab && lab.innerText) || box.name || box.id || 'a box').replace(/\s+/g, ' ').trim().slice(0, 80));
  }
  return {
    text: (root.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 6000),
    links: Array.from(root.querySelectorAll('a[href]'), (a) => [label(a), a.href]).slice(0, 50),
    accept: look(find('[' + A + '="accept"]')),
    reject: look(find('[' + A + '="reject"]')),
    prechecked: ticked.slice(0, 20),
  };
}
