"""What a visitor does on a page before anything is judged: scroll through it, move the pointer, press a
key (typing into a text field in the first view). Lazy images load on scroll, "delay JavaScript until
interaction" loaders on the first scroll, pointer move or key press, and a keylogger sends what is typed
before any form is submitted (the typed text is then looked for in what left the browser)."""

from __future__ import annotations

import contextlib

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

__all__ = ["TYPED", "interact"]

# Distinctive, so that finding it in a request cannot be chance; never submitted.
TYPED = "gkprobe.typed.q7x3"

_SCROLL = """async () => {
  const root = document.documentElement, body = document.body;
  const end = Math.max(root.scrollHeight, body ? body.scrollHeight : 0);
  const frame = () => new Promise(r => requestAnimationFrame(r));
  for (let y = 0, n = 0; y < end && n < 30; y += innerHeight, n++) { scrollTo(0, y); await frame(); }
  scrollTo(0, end); await frame(); scrollTo(0, 0);
}"""

# The first visible text field outside the consent banner, marked for the keyboard.
_FIELD = """() => {
  const kinds = new Set(['', 'text', 'search', 'email', 'tel', 'url', 'password', 'number']);
  for (const el of document.querySelectorAll('input, textarea')) {
    if (el.matches('input') && !kinds.has((el.getAttribute('type') || '').toLowerCase())) continue;
    if (el.disabled || el.readOnly || el.closest('[data-gk-scan-root]')) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2 || getComputedStyle(el).visibility === 'hidden') continue;
    el.setAttribute('data-gk-scan-field', '');
    return true;
  }
  return false;
}"""


async def interact(page: Page, *, type_text: bool) -> str:
    """Scroll, move the pointer, press a key; with `type_text`, type `TYPED` into the first text field
    (never submitted). Returns what was done, for the report."""
    done: list[str] = []
    with contextlib.suppress(PlaywrightError):
        await page.evaluate(_SCROLL)
        done.append("scrolled through")
    with contextlib.suppress(PlaywrightError):
        await page.mouse.move(120, 160)
        await page.mouse.move(480, 360, steps=4)
        done.append("moved the pointer")
    typed = False
    if type_text:
        with contextlib.suppress(PlaywrightError):
            if await page.evaluate(_FIELD):
                field = page.locator("[data-gk-scan-field]").first
                await field.focus(timeout=5000)
                await page.keyboard.type(TYPED)
                typed = True
                done.append(f"typed {TYPED!r} into a text field")
    if not typed:
        with contextlib.suppress(PlaywrightError):
            await page.keyboard.press("Shift")
            done.append("pressed a key")
    return ", ".join(done)
