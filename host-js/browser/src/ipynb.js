// Notebooks as Jupyter .ipynb files (nbformat 4.5, language ruchy), so that they open in the
// tools people already use. Outputs are saved with the cells as standard output records
// (stream, execute_result, error); the component's structured records (the diagnostic with its
// span, the timings) ride along in the cell's `metadata.ruchy`, so opening a saved notebook
// shows exactly what was saved, carets included.
//
// The page's model of a notebook:
//   { name, cells: [cell] }
//   cell = { id, type: 'code' | 'markdown', source, output? }     (markdown cells have no output)
//   output = { count, stdout, display?, diagnostic?, performance?, roundTripMs?, source, interrupted? }
//     source is the text that ran (the editor may have changed since); interrupted is a message;
//     roundTripMs is the worker round trip the page measured.
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
    if (out.stdout) outputs.push({ output_type: 'stream', name: 'stdout', text: toLines(out.stdout) });
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
      outputs.push({ output_type: 'error', ename: 'Error', evalue: out.foreignError.split('\n')[0], traceback: out.foreignError.split('\n') });
    } else if (out.display !== undefined) {
      outputs.push({
        output_type: 'execute_result',
        execution_count: out.count ?? null,
        data: { 'text/plain': toLines(out.display) },
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
    else if (o.output_type === 'execute_result' || o.output_type === 'display_data') {
      const text = o.data?.['text/plain'];
      if (text !== undefined) out.display = fromLines(text);
    } else if (o.output_type === 'error') {
      const tb = Array.isArray(o.traceback) ? o.traceback.map(stripAnsi).join('\n') : '';
      out.foreignError = tb || `${o.ename}: ${o.evalue}`;
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
    if (o.output_type === 'execute_result') out.display = fromLines(o.data?.['text/plain']);
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
