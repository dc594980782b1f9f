// Notebooks as Jupyter .ipynb files (nbformat 4.5, language ruchy), so that they open in the
// tools people already use. Outputs are saved with the cells as standard output records, in the
// order they happened: `stream` for printed text, split around each `display_data` (what
// `display(v)` showed, its MIME bundle as `data`), then `execute_result` (the value's bundle)
// or `error`. The component's structured records (the diagnostic with its span, the timings)
// ride along in the cell's `metadata.ruchy`, so opening a saved notebook shows exactly what was
// saved, carets, charts and tables included, before any cell runs again.
//
// The page's model of a notebook:
//   { name, cells: [cell] }
//   cell = { id, type: 'code' | 'markdown', source, output? }     (markdown cells have no output)
//   output = { count, stdout, display?, bundle?, outputs?, diagnostic?, performance?, roundTripMs?, source, interrupted?,
//              foreignError?, foreignName? }
//     source is the text that ran (the editor may have changed since); interrupted is a message;
//     foreignError is the traceback (colours removed) of an error another tool saved (a Jupyter
//     kernel's), foreignName its { ename, evalue }, written back as they were;
//     roundTripMs is the worker round trip the page measured; bundle is the value's MIME forms
//     ([{ mime, data }], text/plain first), kept only when it has more than text/plain;
//     outputs are the display outputs ([{ bundle, stdoutOffset }], offsets in UTF-8 bytes of
//     stdout), kept only when there are some.
import { renderDiagnostic } from '../../render.mjs';

export const NBFORMAT = 4;
export const NBFORMAT_MINOR = 5;

export const KERNELSPEC = { display_name: 'Ruchy', language: 'ruchy', name: 'ruchy' };
export const LANGUAGE_INFO = {
  name: 'ruchy',
  file_extension: '.ruchy',
  mimetype: 'text/x-ruchy',
  codemirror_mode: 'rust',
  pygments_lexer: 'rust',
};

const TITLES = { parse: 'Parse error', type: 'Type error', runtime: 'Runtime error', limit: 'Limit exceeded' };
// the kernel names its errors the same (host-rs/src/render.rs, error_name)
const ENAMES = { parse: 'ParseError', type: 'TypeError', runtime: 'RuntimeError', limit: 'LimitExceeded' };

let idCounter = 0;
/** A fresh cell id, valid for nbformat 4.5 (`^[a-zA-Z0-9-_]+$`, 1 to 64 characters). */
export function newCellId() {
  idCounter = (idCounter + 1) % 0x100000;
  const rand = Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0');
  return `${Date.now().toString(36)}-${rand}-${idCounter.toString(36)}`;
}

/** Splits text into Jupyter's list of lines, each keeping its `\n` except the last. */
export function toLines(text) {
  if (!text) return [];
  const parts = text.split('\n');
  const out = parts.map((p, i) => (i < parts.length - 1 ? p + '\n' : p));
  if (out[out.length - 1] === '') out.pop();
  return out;
}

/** Jupyter's multiline strings are either a string or a list of strings. */
export function fromLines(v) {
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.join('') : String(v);
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A value's bundle worth keeping: one with a form other than text/plain (a plain value is
 * its display). */
export function richBundle(bundle) {
  return bundle?.some((m) => m.mime !== 'text/plain') ? bundle : undefined;
}

/**
 * Printed text and display outputs in the order they happened: `[{ text } | { output }]`.
 * An output's stdoutOffset counts UTF-8 bytes of `stdout` (moved back to a character boundary
 * should one ever fall inside a character, so no character is cut in two).
 */
export function interleave(stdout, outputs = []) {
  const bytes = utf8.encode(stdout);
  const parts = [];
  let at = 0;
  for (const output of outputs) {
    let to = Math.min(Math.max(output.stdoutOffset, at), bytes.length);
    while (to > at && to < bytes.length && (bytes[to] & 0xc0) === 0x80) to--;
    if (to > at) parts.push({ text: fromUtf8.decode(bytes.subarray(at, to)) });
    at = to;
    parts.push({ output });
  }
  if (at < bytes.length) parts.push({ text: fromUtf8.decode(bytes.subarray(at)) });
  return parts;
}

/** A bundle as a Jupyter MIME dict (each form as a list of lines). */
function bundleToData(bundle) {
  return Object.fromEntries(bundle.map((m) => [m.mime, toLines(m.data)]));
}

/** A Jupyter MIME dict as a bundle, text/plain first; forms that are not text (JSON values)
 * are left out. */
function dataToBundle(data) {
  const forms = Object.entries(data ?? {})
    .filter(([, v]) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))
    .map(([mime, v]) => ({ mime, data: fromLines(v) }));
  return [...forms.filter((m) => m.mime === 'text/plain'), ...forms.filter((m) => m.mime !== 'text/plain')];
}

/** The stream and display_data records of an output's printed text and displays, in order. */
function streamAndDisplays(out) {
  return interleave(out.stdout ?? '', out.outputs).map((p) => (p.output
    ? { output_type: 'display_data', data: bundleToData(p.output.bundle), metadata: {} }
    : { output_type: 'stream', name: 'stdout', text: toLines(p.text) }));
}

/** Reads one `display_data` into `out`: its offset is what was printed before it. */
function addDisplay(out, o) {
  (out.outputs ??= []).push({ bundle: dataToBundle(o.data), stdoutOffset: utf8.encode(out.stdout).length });
}

/** Reads one `execute_result` into `out`: the display and, when rich, the bundle. */
function addResult(out, o) {
  const bundle = dataToBundle(o.data);
  const plain = bundle.find((m) => m.mime === 'text/plain');
  const rich = richBundle(bundle);
  // (another tool's result may have no text/plain: it shows by its richer form)
  if (plain || rich) out.display = plain?.data ?? '';
  if (rich) out.bundle = rich;
}

/** The label a diagnostic's `-->` line gives a cell, like Jupyter's `In [3]`. */
export function originOf(count) {
  return count === undefined || count === null ? 'cell' : `In[${count}]`;
}

/** The text of a diagnostic with its source line and caret (host-js/render.mjs's rules). */
export function diagnosticText(d, source, count) {
  return renderDiagnostic(d, source, originOf(count));
}

export const diagnosticTitle = (kind) => TITLES[kind] ?? 'Error';

function cleanDiagnostic(d) {
  const s = d.span;
  return {
    kind: d.kind,
    message: d.message,
    span: { start: s.start, end: s.end, line: s.line, column: s.column, endLine: s.endLine, endColumn: s.endColumn },
  };
}

function cleanPerformance(p) {
  return { totalUs: p.totalUs, parseUs: p.parseUs, compileUs: p.compileUs, evaluateUs: p.evaluateUs, targetMet: p.targetMet };
}

/** One cell of the model as an nbformat 4.5 cell. */
function cellToJson(cell) {
  if (cell.type === 'markdown') {
    return { cell_type: 'markdown', id: cell.id, metadata: {}, source: toLines(cell.source) };
  }
  const out = cell.output;
  const outputs = [];
  const ruchy = {};
  if (out) {
    outputs.push(...streamAndDisplays(out));
    if (out.diagnostic) {
      const d = out.diagnostic;
      outputs.push({
        output_type: 'error',
        ename: ENAMES[d.kind] ?? 'Error',
        evalue: d.message,
        traceback: diagnosticText(d, out.source, out.count).replace(/\n$/, '').split('\n'),
      });
      ruchy.diagnostic = cleanDiagnostic(d);
    } else if (out.interrupted) {
      outputs.push({ output_type: 'error', ename: 'Interrupted', evalue: out.interrupted, traceback: [`Interrupted: ${out.interrupted}`] });
      ruchy.interrupted = out.interrupted;
    } else if (out.foreignError) {
      const lines = out.foreignError.split('\n');
      outputs.push({ output_type: 'error', ename: out.foreignName?.ename ?? 'Error', evalue: out.foreignName?.evalue ?? lines[0], traceback: lines });
    } else if (out.display !== undefined) {
      outputs.push({
        output_type: 'execute_result',
        execution_count: out.count ?? null,
        data: bundleToData(out.bundle ?? [{ mime: 'text/plain', data: out.display }]),
        metadata: {},
      });
    }
    if (out.performance) ruchy.performance = cleanPerformance(out.performance);
    if (out.roundTripMs !== undefined) ruchy.round_trip_ms = out.roundTripMs;
    if (out.source !== cell.source) ruchy.executed_source = out.source;
  }
  return {
    cell_type: 'code',
    execution_count: out?.count ?? null,
    id: cell.id,
    metadata: Object.keys(ruchy).length ? { ruchy } : {},
    outputs,
    source: toLines(cell.source),
  };
}

/** The model as an nbformat 4.5 notebook object. */
export function toIpynb(nb) {
  return {
    cells: nb.cells.map(cellToJson),
    metadata: {
      kernelspec: { ...KERNELSPEC },
      language_info: { ...LANGUAGE_INFO },
      ruchy: { engine: 'ruchy:notebook@0.1.0' },
    },
    nbformat: NBFORMAT,
    nbformat_minor: NBFORMAT_MINOR,
  };
}

/** The file's text: JSON with one-space indentation, as Jupyter writes it. */
export function serializeIpynb(nb) {
  return JSON.stringify(toIpynb(nb), null, 1) + '\n';
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** Outputs of a code cell written by another tool, without `metadata.ruchy`. */
function foreignOutput(c, source) {
  const outputs = Array.isArray(c.outputs) ? c.outputs : [];
  if (!outputs.length && (c.execution_count === null || c.execution_count === undefined)) return undefined;
  const out = { count: c.execution_count ?? undefined, stdout: '', source };
  for (const o of outputs) {
    if (o.output_type === 'stream') out.stdout += fromLines(o.text);
    else if (o.output_type === 'display_data') addDisplay(out, o);
    else if (o.output_type === 'execute_result') addResult(out, o);
    else if (o.output_type === 'error') {
      const tb = Array.isArray(o.traceback) ? o.traceback.map(stripAnsi).join('\n') : '';
      out.foreignError = tb || `${o.ename}: ${o.evalue}`;
      if (typeof o.ename === 'string' && typeof o.evalue === 'string') out.foreignName = { ename: o.ename, evalue: o.evalue };
    }
  }
  return out;
}

function codeCellFromJson(c, source) {
  const meta = c.metadata?.ruchy;
  if (!meta) return foreignOutput(c, source);
  const out = { count: c.execution_count ?? undefined, stdout: '', source: meta.executed_source ?? source };
  for (const o of c.outputs ?? []) {
    if (o.output_type === 'stream' && o.name === 'stdout') out.stdout += fromLines(o.text);
    if (o.output_type === 'display_data') addDisplay(out, o);
    if (o.output_type === 'execute_result') addResult(out, o);
  }
  if (meta.diagnostic) out.diagnostic = cleanDiagnostic(meta.diagnostic);
  if (meta.interrupted) out.interrupted = String(meta.interrupted);
  if (meta.performance) out.performance = cleanPerformance(meta.performance);
  if (typeof meta.round_trip_ms === 'number') out.roundTripMs = meta.round_trip_ms;
  return out;
}

/**
 * Reads an .ipynb file's text into the page's model. Throws an Error with a message for the
 * user when the file is not an nbformat 4 notebook. Raw cells become markdown cells.
 */
export function parseIpynb(text, name = 'notebook') {
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`not a notebook: the file is not JSON (${e.message})`);
  }
  if (!json || typeof json !== 'object' || !Array.isArray(json.cells)) {
    throw new Error('not a notebook: no "cells" list');
  }
  if (json.nbformat !== NBFORMAT) {
    throw new Error(`unsupported notebook format ${json.nbformat}: this page reads nbformat 4`);
  }
  const seen = new Set();
  const cells = json.cells.map((c) => {
    let id = typeof c.id === 'string' && /^[a-zA-Z0-9-_]{1,64}$/.test(c.id) && !seen.has(c.id) ? c.id : newCellId();
    seen.add(id);
    const source = fromLines(c.source);
    if (c.cell_type === 'code') {
      const output = codeCellFromJson(c, source);
      return output ? { id, type: 'code', source, output } : { id, type: 'code', source };
    }
    return { id, type: 'markdown', source };
  });
  const language = json.metadata?.language_info?.name ?? json.metadata?.kernelspec?.language;
  return { name, cells, language };
}
