// askculture: the browser side of the chat (loaded once in the page's <head>).
// Citation markers jump to their source; "Read the whole document" asks the server for the
// viewer; a new answer is scrolled to its start; chat messages get a plain-text accessible name.
(() => {
  if (window.__askculture) { return; }
  window.__askculture = true;

  const chatScroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) { return p; }
    }
    return null;
  };

  // Put the start of an element at the top of its scrolling chat panel (below any overlay).
  const showStart = (el, margin) => {
    const box = chatScroller(el);
    if (box) {
      const top = el.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTop += top - (margin || 8);
    }
    const rect = el.getBoundingClientRect();
    if (rect.top < 0 || rect.top > window.innerHeight - 40) {
      window.scrollBy(0, rect.top - 80);
    }
  };

  const flash = (el) => {
    el.classList.remove('ac-flash');
    void el.offsetWidth;
    el.classList.add('ac-flash');
    setTimeout(() => el.classList.remove('ac-flash'), 2500);
  };

  document.addEventListener('click', (event) => {
    const cite = event.target.closest && event.target.closest('a.ac-cite');
    if (cite) {
      event.preventDefault();
      event.stopPropagation();
      const id = (cite.getAttribute('href') || '').slice(1);
      const target = document.getElementById(id);
      if (target) {
        showStart(target, 12);
        flash(target);
        target.focus({ preventScroll: true });
      }
      return;
    }
    const open = event.target.closest && event.target.closest('button.ac-open');
    if (open) {
      event.preventDefault();
      event.stopPropagation();
      const box = document.querySelector('#ac-open-doc textarea, #ac-open-doc input');
      const go = document.querySelector('#ac-open-doc-go');
      if (!box || !go) { return; }
      box.value = JSON.stringify({ source: open.id, nonce: Date.now() });
      box.dispatchEvent(new Event('input', { bubbles: true }));
      setTimeout(() => go.click(), 50);
    }
  }, true);

  let lastReply = null;
  const fixChat = () => {
    const chat = document.getElementById('ac-chat');
    if (chat) {
      chat.querySelectorAll('[data-testid="bot"], [data-testid="user"]').forEach((el) => {
        const label = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 300);
        if (el.getAttribute('aria-label') !== label) { el.setAttribute('aria-label', label); }
      });
      const replies = chat.querySelectorAll('.ac-answer, .ac-notice');
      const last = replies.length ? replies[replies.length - 1] : null;
      if (last && last !== lastReply) {
        lastReply = last;
        const message = last.closest('[data-testid="bot"]') || last;
        showStart(message, 8);
        setTimeout(() => showStart(message, 8), 150);  // after the chat has laid it out
      }
    }
    const quote = document.getElementById('ac-doc-quote');
    if (quote && !quote.dataset.shown) {
      quote.dataset.shown = '1';
      quote.scrollIntoView({ block: 'center' });
    }
  };
  new MutationObserver(fixChat).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label'],
  });
})();
