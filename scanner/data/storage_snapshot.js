// This frame's localStorage, sessionStorage and IndexedDB databases: [origin, [[area, key, value], ...]].
// (IndexedDB writes the hooks did not see, a worker's for one, show up here by database name.)
async () => {
  const out = [];
  for (const [area, name] of [['local', 'localStorage'], ['session', 'sessionStorage']]) {
    try {
      const s = window[name];
      for (let i = 0; i < s.length; i++) { const k = s.key(i); out.push([area, k, String(s.getItem(k)).slice(0, 200)]); }
    } catch (e) {}
  }
  try {
    for (const db of await indexedDB.databases()) out.push(['indexedDB', db.name, 'version ' + db.version]);
  } catch (e) {}
  return [location.origin, out];
}
