// Withdraws consent through a known consent platform's own API; returns the API used, or ''.
() => {
  const w = window;
  const tries = [
    ['OneTrust.RejectAll()', () => w.OneTrust && w.OneTrust.RejectAll && (w.OneTrust.RejectAll(), true)],
    ['Cookiebot.withdraw()', () => w.Cookiebot && w.Cookiebot.withdraw && (w.Cookiebot.withdraw(), true)],
    ['Didomi.setUserDisagreeToAll()', () => w.Didomi && w.Didomi.setUserDisagreeToAll && (w.Didomi.setUserDisagreeToAll(), true)],
    ['UC_UI.denyAllConsents()', () => w.UC_UI && w.UC_UI.denyAllConsents && (w.UC_UI.denyAllConsents(), true)],
    ['klaro manager changeAll(false)', () => { const m = w.klaro && w.klaro.getManager && w.klaro.getManager();
        return !!m && (m.changeAll(false), m.saveAndApplyConsents(), true); }],
    ['tarteaucitron respondAll(false)', () => w.tarteaucitron && w.tarteaucitron.userInterface &&
        (w.tarteaucitron.userInterface.respondAll(false), true)],
    ['CookieConsent.acceptCategory([])', () => w.CookieConsent && w.CookieConsent.acceptCategory &&
        (w.CookieConsent.acceptCategory([]), true)],
    ['cmplz_deny_all()', () => typeof w.cmplz_deny_all === 'function' && (w.cmplz_deny_all(), true)],
  ];
  for (const [name, f] of tries) { try { if (f()) return name; } catch (e) {} }
  return '';
}
