// The editor's side of the session's assistance: completion (Tab, or typing after a dot), the
// inspection tooltip (hover, or Shift+Tab). The answers come from the component through the
// worker; this file only converts positions and shows them.
//
// The component counts UTF-8 bytes; CodeMirror counts UTF-16 code units: every position is
// converted on the way out (utf16ToByte) and back (byteToUtf16).
import { StateEffect, StateField, Prec } from '@codemirror/state';
import { EditorView, hoverTooltip, keymap, showTooltip } from '@codemirror/view';
import { acceptCompletion, autocompletion, completionStatus, startCompletion } from '@codemirror/autocomplete';
import { byteToUtf16, utf16ToByte } from './offsets.js';

/** CodeMirror's completion types (its icons) for the component's completion kinds. */
const KIND_TYPE = { variable: 'variable', function: 'function', method: 'method', keyword: 'keyword', type: 'type', field: 'property' };

const NAME_CHAR = /[\p{L}\p{N}_]/u;

/** The text of the cursor's line before the cursor. */
function lineBefore(state, pos) {
  return state.doc.sliceString(state.doc.lineAt(pos).from, pos);
}

/** The component's completions at `pos` of `state`'s text, in CodeMirror's terms; null if none. */
async function completionsAt(assist, state, pos) {
  const text = state.doc.toString();
  const r = await assist.complete(text, utf16ToByte(text, pos));
  if (!r || !r.items.length) return null;
  return {
    from: byteToUtf16(text, r.replace.start),
    to: byteToUtf16(text, r.replace.end),
    items: r.items,
  };
}

/** The completion source: asked after a dot while typing, and whenever asked explicitly. */
function completionSource(assist) {
  return async (context) => {
    if (!context.explicit && !/\.[\p{L}\p{N}_]*$/u.test(lineBefore(context.state, context.pos))) return null;
    const r = await completionsAt(assist, context.state, context.pos);
    if (!r || context.aborted) return null;
    return {
      from: r.from,
      to: r.to,
      // the component gives the best first: keep its order among equally good matches
      options: r.items.map((item, i) => ({
        label: item.label,
        type: KIND_TYPE[item.kind] ?? 'text',
        detail: item.detail,
        kind: item.kind,
        boost: Math.max(-99, 99 - i),
      })),
      validFor: /^[\p{L}\p{N}_]*$/u,
    };
  };
}

/** Tab: takes the open popup's choice; after a name or a dot asks for completions and inserts
 * the only candidate, or opens the popup when there are several; elsewhere it indents. */
function tabComplete(assist) {
  return (view) => {
    if (completionStatus(view.state) === 'active') return acceptCompletion(view);
    const sel = view.state.selection.main;
    if (!sel.empty || !/[\p{L}\p{N}_.]$/u.test(lineBefore(view.state, sel.head))) return false;
    const asked = view.state;
    completionsAt(assist, asked, sel.head).then((r) => {
      if (!r || view.state.doc !== asked.doc) return;
      if (r.items.length === 1) {
        const label = r.items[0].label;
        view.dispatch({ changes: { from: r.from, to: r.to, insert: label }, selection: { anchor: r.from + label.length }, userEvent: 'input.complete' });
      } else startCompletion(view);
    });
    return true;
  };
}

/** Shows (or with null, hides) the Shift+Tab inspection tooltip. */
const setInspectTooltip = StateEffect.define();

const inspectTooltipField = StateField.define({
  create: () => null,
  update(tip, tr) {
    for (const e of tr.effects) if (e.is(setInspectTooltip)) return e.value;
    // typing or moving the cursor closes it
    return tr.docChanged || tr.selection ? null : tip;
  },
  provide: (f) => showTooltip.from(f),
});

/** A tooltip for the component's inspection `r` of `text`. */
function inspectionTooltip(assist, text, r) {
  return {
    pos: byteToUtf16(text, r.span.start),
    end: byteToUtf16(text, r.span.end),
    above: true,
    create() {
      const dom = document.createElement('div');
      dom.className = 'inspect-tooltip';
      assist.renderMarkdownInto(dom, r.markdown);
      return { dom };
    },
  };
}

/** Shift+Tab: the inspection of the name at the cursor (or just before it), as a tooltip. */
function inspectAtCursor(assist) {
  return (view) => {
    const sel = view.state.selection.main;
    const around = view.state.doc.sliceString(Math.max(0, sel.head - 1), sel.head + 1);
    if (!sel.empty || !NAME_CHAR.test(around)) return false;
    const asked = view.state;
    const text = asked.doc.toString();
    assist.inspect(text, utf16ToByte(text, sel.head)).then((r) => {
      if (!r || view.state.doc !== asked.doc) return;
      view.dispatch({ effects: setInspectTooltip.of(inspectionTooltip(assist, text, r)) });
    });
    return true;
  };
}

/** The hover tooltip: the inspection of the name under the pointer. */
function hoverInspect(assist) {
  return hoverTooltip(async (view, pos) => {
    const text = view.state.doc.toString();
    const r = await assist.inspect(text, utf16ToByte(text, pos));
    return r && view.state.doc.toString() === text ? inspectionTooltip(assist, text, r) : null;
  }, { hoverTime: 350 });
}

/** The kind of a completion candidate, in words, next to its label. */
function kindLabel(completion) {
  const el = document.createElement('span');
  el.className = 'cm-completionKind';
  el.textContent = completion.kind ?? '';
  return el;
}

/**
 * The extensions of a code cell's editor that use the session.
 * @param {object} assist
 * @param {(source: string, cursor: number) => Promise<object|null>} assist.complete   the worker's complete (cursor in bytes)
 * @param {(source: string, cursor: number) => Promise<object|null>} assist.inspect    the worker's inspect
 * @param {(el: HTMLElement, markdown: string) => void} assist.renderMarkdownInto   fills el with safe HTML (markdown.js)
 */
export function assistExtensions(assist) {
  return [
    autocompletion({
      override: [completionSource(assist)],
      addToOptions: [{ render: kindLabel, position: 70 }],
      icons: true,
    }),
    Prec.highest(keymap.of([
      { key: 'Tab', run: tabComplete(assist) },
      { key: 'Shift-Tab', run: inspectAtCursor(assist) },
      {
        key: 'Escape',
        run: (view) => {
          if (!view.state.field(inspectTooltipField)) return false;
          view.dispatch({ effects: setInspectTooltip.of(null) });
          return true;
        },
      },
    ])),
    inspectTooltipField,
    hoverInspect(assist),
    EditorView.domEventHandlers({ blur: (e, view) => { if (view.state.field(inspectTooltipField)) view.dispatch({ effects: setInspectTooltip.of(null) }); } }),
  ];
}
