// A cell's editor as the page uses it. The CodeMirror editors (editor.js, with completion and
// highlighting: most of the page's JavaScript) are a chunk of their own, loaded when main.js
// calls `loadEditors()`: once the cells run at load have their first result, or at once when
// none do, or at the user's first key or click. Loading and creating the editors takes the page's
// thread for 100-200 ms on a slow machine, which would otherwise come between the engine worker's
// "ready" and the first result. Until then a cell shows its text in a plain <pre> of the same
// look; what the page asks of the editor meanwhile (focus, an error underline, new text) is kept
// and done once the real editor is in place.
let editorModule = null;
let resolveLoaded;
let rejectLoaded;
/** Resolves once editor.js has loaded and every cell has its CodeMirror editor. */
export const editorsLoaded = new Promise((resolve, reject) => {
  resolveLoaded = resolve;
  rejectLoaded = reject;
});
let loading = null;

/** Starts loading the editors' chunk (once). */
export function loadEditors() {
  loading ??= import('./editor.js').then((m) => {
    editorModule = m;
    resolveLoaded();
  }, rejectLoaded);
}

export class CellEditor {
  /** The options of editor.js `createEditor` ({ parent, doc, kind, keys, onChange, onFocus, assist }). */
  constructor(options) {
    this.options = options;
    this.text = options.doc;
    this.view = null;
    this.destroyed = false;
    this.pending = { focus: null, error: null };
    if (editorModule) {
      this.mount();
      return;
    }
    this.placeholder = document.createElement('pre');
    this.placeholder.className = 'cm-pending';
    this.placeholder.textContent = this.text || ' ';
    // a click before the editor exists puts the cursor at the end once it does
    this.placeholder.addEventListener('mousedown', () => {
      this.pending.focus = true;
      options.onFocus();
    });
    options.parent.append(this.placeholder);
    editorsLoaded.then(() => {
      if (!this.destroyed) this.mount();
    });
  }

  mount() {
    this.placeholder?.remove();
    this.placeholder = null;
    this.view = editorModule.createEditor({ ...this.options, doc: this.text });
    if (this.pending.error) editorModule.markError(this.view, ...this.pending.error);
    if (this.pending.focus !== null) this.focus(this.pending.focus);
    this.pending = null;
  }

  /** Focuses the editor: the cursor at the start (`atEnd` false), the end (true) or where it was. */
  focus(atEnd) {
    if (!this.view) {
      this.pending.focus = atEnd;
      return;
    }
    this.view.focus();
    if (atEnd === undefined) return;
    const pos = atEnd ? this.view.state.doc.length : 0;
    this.view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  }

  /** Underlines the span of `diagnostic` when the editor still holds `source` (null: none). */
  markError(diagnostic, source) {
    if (this.view) editorModule.markError(this.view, diagnostic, source);
    else this.pending.error = [diagnostic, source];
  }

  /** Replaces the text (a programmatic change: not in the undo history). */
  setText(text) {
    if (this.view) {
      editorModule.setText(this.view, text);
      return;
    }
    this.text = text;
    this.placeholder.textContent = text || ' ';
    this.options.onChange(text);
  }

  destroy() {
    this.destroyed = true;
    this.view?.destroy();
    this.placeholder?.remove();
  }
}
