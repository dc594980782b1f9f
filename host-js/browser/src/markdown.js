// Markdown as safe HTML (markdown-it, raw HTML off, links opening in a new tab). markdown-it is
// a chunk of its own, loaded after the page's first script: until it has arrived, markdown is
// shown as its text and rendered in place when it comes.
let markdown = null;
const loaded = import('markdown-it').then(({ default: MarkdownIt }) => {
  markdown = new MarkdownIt({ html: false, linkify: true });
  const defaultLinkOpen = markdown.renderer.rules.link_open ?? ((tokens, idx, options, env, self) => self.renderToken(tokens, idx, options));
  markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    tokens[idx].attrSet('target', '_blank');
    tokens[idx].attrSet('rel', 'noopener noreferrer');
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
});

/** Fills `el` with `text` rendered as markdown (now, or when markdown-it has loaded). */
export function renderMarkdownInto(el, text) {
  if (markdown) {
    el.markdownTicket = undefined;
    delete el.dataset.markdownPending;
    el.innerHTML = markdown.render(text);
    return;
  }
  el.textContent = text;
  el.dataset.markdownPending = '';
  const ticket = (el.markdownTicket = {});
  loaded.then(() => {
    // only the latest text asked for this element
    if (el.markdownTicket !== ticket) return;
    el.innerHTML = markdown.render(text);
    delete el.dataset.markdownPending;
  });
}
