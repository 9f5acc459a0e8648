// This frame's localStorage and sessionStorage: [origin, [[area, key, value], ...]].
() => {
  const out = [];
  for (const [area, name] of [['local', 'localStorage'], ['session', 'sessionStorage']]) {
    try {
      const s = window[name];
      for (let i = 0; i < s.length; i++) { const k = s.key(i); out.push([area, k, String(s.getItem(k)).slice(0, 200)]); }
    } catch (e) {}
  }
  return [location.origin, out];
}
