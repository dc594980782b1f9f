// Rendering a MIME bundle (a value's forms, or what display(v) showed) as the richest form the
// page can show safely. The engine decides the forms; the page only picks one:
//   image/svg+xml   an <img> with a data: URL: scripts inside an SVG do not run in an image
//   text/html       a sandboxed <iframe srcdoc> without allow-scripts
//   text/markdown   markdown-it with raw HTML off
//   image/png, image/jpeg (from notebooks of other tools)   an <img>
//   text/plain      a <pre>

/** The forms the page renders, richest first. */
const PREFERENCE = ['image/svg+xml', 'text/html', 'text/markdown', 'image/png', 'image/jpeg', 'text/plain'];

/** The form of `bundle` to show: the first of PREFERENCE it has. */
export function richest(bundle) {
  for (const mime of PREFERENCE) {
    const form = bundle.find((m) => m.mime === mime);
    if (form) return form;
  }
  return { mime: 'text/plain', data: bundle[0]?.data ?? '' };
}

// The HTML frame's document: the engine's table style, and a policy that loads nothing (no
// script, frame, font or remote image), so shown HTML cannot reach out either.
const FRAME_HEAD = '<meta charset="utf-8">'
  + '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">'
  + '<style>html{color-scheme:light}body{margin:0;padding:2px;font:13px/1.45 system-ui,-apple-system,"Segoe UI","Liberation Sans",sans-serif;color:#1f2328;overflow-wrap:anywhere}'
  + 'table{border-collapse:collapse}th,td{border:1px solid #d8dde5;padding:3px 8px;text-align:left;vertical-align:top}'
  + 'th{background:#f6f7f9;font-weight:600}tr:nth-child(even) td{background:#fafbfc}caption,tfoot{color:#667085}</style>';

/** Tallest an HTML frame grows before it scrolls, in pixels. */
const MAX_FRAME_HEIGHT = 640;

/** Sizes a frame to its document. The frame has `allow-same-origin` only so that the page can
 * read this height: without scripts in the frame there is no other way to learn it. */
function fitFrame(frame) {
  const doc = frame.contentDocument;
  if (!doc?.documentElement) return;
  const root = doc.documentElement;
  const scrollbar = root.scrollWidth > root.clientWidth ? 18 : 0;
  frame.style.height = `${Math.min(root.scrollHeight + scrollbar, MAX_FRAME_HEIGHT)}px`;
}

// One observer for every HTML frame: a frame's height changes with its width (wrapping), so
// it is measured again when its width changes.
const frameWidths = new WeakMap();
const frameResizes = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver((entries) => {
  for (const { target, contentRect } of entries) {
    const width = Math.round(contentRect.width);
    if (frameWidths.get(target) !== width) {
      frameWidths.set(target, width);
      fitFrame(target);
    }
  }
});

function htmlFrame(html, title) {
  const frame = document.createElement('iframe');
  frame.className = 'html-output';
  // no allow-scripts, ever: HTML from a cell is shown, never run
  frame.setAttribute('sandbox', 'allow-same-origin');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.title = title;
  frame.srcdoc = `<!doctype html><html><head>${FRAME_HEAD}</head><body>${html}</body></html>`;
  frame.addEventListener('load', () => fitFrame(frame));
  frameResizes?.observe(frame);
  return frame;
}

/** Stops watching the HTML frames inside `container` (before its outputs are replaced). */
export function forgetOutputs(container) {
  for (const frame of container.querySelectorAll('iframe.html-output')) frameResizes?.unobserve(frame);
}

function image(src, alt, mime) {
  const img = document.createElement('img');
  img.className = 'image-output';
  img.alt = alt;
  img.src = src;
  img.dataset.mime = mime;
  return img;
}

/**
 * The element showing `bundle`: its richest form. `renderMarkdownInto(el, text)` fills an
 * element with Markdown as safe HTML (markdown.js: markdown-it with html: false).
 */
export function renderBundle(bundle, renderMarkdownInto) {
  const form = richest(bundle);
  const plain = bundle.find((m) => m.mime === 'text/plain')?.data ?? '';
  let el;
  if (form.mime === 'image/svg+xml') {
    el = image(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(form.data)}`, plain, form.mime);
  } else if (form.mime === 'image/png' || form.mime === 'image/jpeg') {
    el = image(`data:${form.mime};base64,${form.data.replace(/\s+/g, '')}`, plain, form.mime);
  } else if (form.mime === 'text/html') {
    el = htmlFrame(form.data, plain.slice(0, 200));
  } else if (form.mime === 'text/markdown') {
    el = document.createElement('div');
    el.className = 'markdown-output';
    renderMarkdownInto(el, form.data);
  } else {
    el = document.createElement('pre');
    el.className = 'plain-output';
    el.textContent = form.data;
  }
  el.dataset.mime = form.mime;
  return el;
}
