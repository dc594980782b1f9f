// CodeMirror 6 editors for the cells: Ruchy highlighting for code cells, plain text for
// markdown, the notebook's keys (Shift+Enter and friends), an underline under the span of the
// cell's last error, and for code cells the session's completion and inspection (assist.js).
import { EditorState, Prec, StateEffect, StateField } from '@codemirror/state';
import {
  EditorView, Decoration, keymap, lineNumbers, drawSelection, highlightActiveLine,
  highlightActiveLineGutter, highlightSpecialChars, dropCursor, rectangularSelection, placeholder,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { classHighlighter } from '@lezer/highlight';
import { ruchy } from './ruchy-lang.js';
import { assistExtensions } from './assist.js';
import { byteToUtf16 } from './offsets.js';

export { byteToUtf16 };

/** Sets (or with `null`, clears) the error underline: `{ from, to }` in UTF-16 offsets. */
export const setErrorMark = StateEffect.define();

const errorMark = Decoration.mark({ class: 'cm-error-span' });

const errorField = StateField.define({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (e.is(setErrorMark)) {
        if (!e.value) return Decoration.none;
        const len = tr.state.doc.length;
        const from = Math.min(e.value.from, len);
        const to = Math.min(Math.max(e.value.to, from + 1), len);
        return to > from ? Decoration.set([errorMark.range(from, to)]) : Decoration.none;
      }
    }
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/**
 * A cell editor.
 * @param {object} o
 * @param {HTMLElement} o.parent
 * @param {string} o.doc
 * @param {'code'|'markdown'} o.kind
 * @param {object} o.keys   handlers: run, runAndAdvance, runAndInsert, up, down, escape (return true if handled)
 * @param {(text: string) => void} o.onChange
 * @param {() => void} o.onFocus
 * @param {object} [o.assist]  completion and inspection for code cells (see assist.js)
 */
export function createEditor({ parent, doc, kind, keys, onChange, onFocus, assist }) {
  const notebookKeys = Prec.highest(keymap.of([
    { key: 'Shift-Enter', run: () => keys.runAndAdvance() },
    { key: 'Mod-Enter', run: () => keys.run() },
    { key: 'Alt-Enter', run: () => keys.runAndInsert() },
    { key: 'Escape', run: (view) => { view.contentDOM.blur(); return keys.escape?.() ?? true; } },
    {
      key: 'ArrowUp',
      run: (view) => {
        const sel = view.state.selection.main;
        if (!sel.empty || view.state.doc.lineAt(sel.head).number !== 1) return false;
        return keys.up();
      },
    },
    {
      key: 'ArrowDown',
      run: (view) => {
        const sel = view.state.selection.main;
        if (!sel.empty || view.state.doc.lineAt(sel.head).number !== view.state.doc.lines) return false;
        return keys.down();
      },
    },
  ]));
  const language = kind === 'code'
    ? [ruchy(), syntaxHighlighting(classHighlighter), lineNumbers(), highlightActiveLineGutter(), closeBrackets(), bracketMatching(), indentOnInput()]
    : [EditorView.lineWrapping, placeholder('Markdown: *emphasis*, **strong**, `code`, # headings, lists, links')];
  const state = EditorState.create({
    doc,
    extensions: [
      // first: while the completion popup is open, its keys (arrows, Enter, Escape) come
      // before the notebook's
      kind === 'code' && assist ? assistExtensions(assist) : [],
      notebookKeys,
      language,
      highlightSpecialChars(),
      history(),
      drawSelection(),
      dropCursor(),
      rectangularSelection(),
      highlightActiveLine(),
      highlightSelectionMatches(),
      errorField,
      EditorState.allowMultipleSelections.of(true),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, indentWithTab]),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) onChange(u.state.doc.toString());
        if (u.focusChanged && u.view.hasFocus) onFocus();
      }),
      EditorView.contentAttributes.of({ 'aria-label': kind === 'code' ? 'Ruchy code cell' : 'Markdown cell' }),
    ],
  });
  return new EditorView({ state, parent });
}

/** Underlines the span of `diagnostic` in `view` when the editor still holds `source`. */
export function markError(view, diagnostic, source) {
  const text = view.state.doc.toString();
  if (!diagnostic || text !== source) {
    // nothing to underline: leave the editor alone unless it shows an old underline
    if (view.state.field(errorField).size) view.dispatch({ effects: setErrorMark.of(null) });
    return;
  }
  const from = byteToUtf16(text, diagnostic.span.start);
  const to = byteToUtf16(text, diagnostic.span.end);
  view.dispatch({ effects: setErrorMark.of({ from, to }) });
}

/** Replaces the editor's text (a programmatic change: not in the undo history). */
export function setText(view, text) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
