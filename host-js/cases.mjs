// The conformance corpus format (tests/cases/*.cases) and its comparison rules, line for line
// those of the Rust harness (tests/harness/src/lib.rs, whose doc comment describes the format),
// for the jco runner (conformance.mjs). A rule changed there is changed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { xmlProblem } from './xml.mjs';

const utf8Length = (s) => Buffer.byteLength(s, 'utf8');
/** Rust's `str::parse::<usize>()` (and u32): digits, an optional leading `+`. */
const parseCount = (s) => (/^\+?\d+$/.test(s ?? '') ? Number(s) : undefined);

/** Every `.cases` file under `dir`, sorted by path. */
export function caseFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...caseFiles(p));
    else if (name.endsWith('.cases')) out.push(p);
  }
  return out.sort();
}

function parsePosition(s) {
  const m = /^(\d+):(\d+)$/.exec(s);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
}

// `!! KIND[ @L:C[-L:C]]: MESSAGE`
function parseErrorLine(rest) {
  const i = rest.indexOf(': ');
  if (i < 0) return undefined;
  const head = rest.slice(0, i).split(/\s+/).filter(Boolean);
  const message = rest.slice(i + 2);
  const kind = head[0];
  if (!['parse', 'type', 'runtime', 'limit'].includes(kind) || head.length > 2) return undefined;
  let start, end;
  if (head[1] !== undefined) {
    if (!head[1].startsWith('@')) return undefined;
    const [a, b] = head[1].slice(1).split('-');
    start = parsePosition(a);
    if (!start) return undefined;
    if (b !== undefined) {
      end = parsePosition(b);
      if (!end) return undefined;
    }
  }
  return { kind, start, end, message };
}

/** `?complete SOURCE`, `?inspect SOURCE`, `?is-complete SOURCE`, `?variables` (after the `?`).
 * In SOURCE, `\n` is a newline and `<|>` the cursor (a byte offset). */
function parseQuery(q) {
  const space = q.indexOf(' ');
  const [verb, rest] = space < 0 ? [q, ''] : [q.slice(0, space), q.slice(space + 1)];
  const source = rest.replaceAll('\\n', '\n');
  const withCursor = () => {
    const at = source.indexOf('<|>');
    if (at < 0) throw new Error('the query needs a `<|>` cursor');
    return { source: source.replace('<|>', ''), cursor: utf8Length(source.slice(0, at)) };
  };
  if (verb === 'complete' || verb === 'inspect') return { kind: verb, ...withCursor() };
  if (verb === 'is-complete') return { kind: verb, source };
  if (verb === 'variables' && rest === '') return { kind: verb };
  throw new Error('a query is `?complete`, `?inspect`, `?is-complete` (with source) or `?variables`');
}

const newBundleCheck = () => ({ mimes: undefined, forms: [], offset: undefined });

/** The rest of a `%%`/`%N` line: `MIME MIME ...`, `MIME contains TEXT`, `MIME count N TEXT`,
 * `MIME xml`, or (outputs only) `offset K`. */
function parseBundleLine(spec, check, value) {
  const words = spec.split(' ');
  const mime = words[0];
  const restAfter = (k) => words.slice(k).join(' ');
  if (mime === 'offset' && !value) {
    const k = parseCount(words[1]);
    if (k === undefined || k > 0xffffffff) throw new Error('`offset K`');
    check.offset = k;
  } else if (words[1] === 'contains') {
    check.forms.push({ check: 'contains', mime, text: restAfter(2) });
  } else if (words[1] === 'count') {
    const n = parseCount(words[2]);
    if (n === undefined) throw new Error('`MIME count N TEXT`');
    check.forms.push({ check: 'count', mime, n, text: restAfter(3) });
  } else if (words[1] === 'xml' && words.length === 2) {
    check.forms.push({ check: 'xml', mime });
  } else if (words.every((w) => w.includes('/'))) {
    if (check.mimes) throw new Error('the MIME types are listed once');
    check.mimes = words;
  } else {
    throw new Error('`MIME MIME ..`, `MIME contains TEXT`, `MIME count N TEXT`, `MIME xml`');
  }
}

/** The `%%` or `%N` line's bundle check in `expected` (outputs grow to N). */
function bundleCheckFor(expected, which) {
  if (which === '%') return expected.bundle;
  const k = parseCount(which);
  if (k === undefined || k < 1) throw new Error('`%%` or `%N` (N = 1, 2, ...)');
  while (expected.outputs.length < k) expected.outputs.push(newBundleCheck());
  return expected.outputs[k - 1];
}

function parseHeader(line, fail) {
  let rest = line.slice(3).trim();
  const limits = {};
  const at = rest.indexOf('@limits');
  if (at >= 0) {
    for (const kv of rest.slice(at + '@limits'.length).trim().split(/\s+/).filter(Boolean)) {
      const [k, v] = kv.split('=');
      const key = { 'time-ms': 'timeMs', 'memory-bytes': 'memoryBytes', 'call-depth': 'callDepth', 'output-bytes': 'outputBytes' }[k];
      if (!key || !/^\d+$/.test(v ?? '')) fail(`bad limit \`${kv}\``);
      limits[key] = key === 'timeMs' || key === 'memoryBytes' ? BigInt(v) : Number(v);
    }
    rest = rest.slice(0, at).trim();
  }
  const script = rest.endsWith('@script');
  if (script) rest = rest.slice(0, -'@script'.length).trim();
  if (!rest) fail('a case needs a name after `===`');
  return { name: rest, script, limits };
}

/** Parses one corpus file; a malformed line throws an Error naming the file and line. */
export function parseCases(text, file) {
  const cases = [];
  let display = [];
  let inCell = false;
  let inQuery = false; // the last query, while its `+`/`-`/`=` lines follow
  // closes the expectation block of the last cell
  const flush = () => {
    while (display.length && display[display.length - 1] === '') display.pop();
    const c = cases[cases.length - 1];
    const cell = c?.cells[c.cells.length - 1];
    if (cell && display.length) cell.expected.display = display.join('\n');
    display = [];
  };
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // as Rust's str::lines
  lines.forEach((raw, i) => {
    const n = i + 1;
    const fail = (msg) => { throw new Error(`${file}:${n}: ${msg}`); };
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('===')) {
      flush();
      cases.push({ ...parseHeader(line, fail), file, line: n, cells: [] });
      inCell = false;
      inQuery = false;
      return;
    }
    const c = cases[cases.length - 1];
    if (!c) {
      if (line.trim() === '' || line.startsWith('#')) return;
      fail('text before the first `=== case`');
    }
    if (line.startsWith('>>>')) {
      inQuery = false;
      let src = line.slice(3);
      if (src.startsWith(' ')) src = src.slice(1);
      if (c.script && c.cells.length) {
        if (display.length || c.cells[0].expected.stdout) fail('a script has one program: all `>>>` lines come first');
        c.cells[0].source += '\n' + src;
      } else {
        flush();
        c.cells.push({
          source: src,
          line: n,
          expected: { display: undefined, stdout: '', error: undefined, bundle: newBundleCheck(), outputs: [] },
          queries: [],
        });
      }
      inCell = true;
      return;
    }
    if (line.startsWith('...')) {
      if (!inCell) fail('`...` continues a cell: it must follow `>>>` or `...`');
      let src = line.slice(3);
      if (src.startsWith(' ')) src = src.slice(1);
      c.cells[c.cells.length - 1].source += '\n' + src;
      return;
    }
    if (inQuery && line.startsWith('?')) inQuery = false;
    inCell = false;
    const cell = c.cells[c.cells.length - 1];
    if (!cell) {
      if (line.trim() === '' || line.startsWith('#')) return;
      fail('an expectation before the first `>>>` cell');
    }
    if (line.startsWith('?')) {
      if (c.script) fail('a script case has no queries');
      let query;
      try {
        query = parseQuery(line.slice(1));
      } catch (e) {
        fail(e.message);
      }
      cell.queries.push({ query, line: n, expect: [] });
      inQuery = true;
      return;
    }
    if (inQuery) {
      const op = { '+ ': 'has', '- ': 'lacks', '= ': 'is' }[line.slice(0, 2)];
      if (op) cell.queries[cell.queries.length - 1].expect.push({ op, text: line.slice(2) });
      else if (line.trim() === '' || line.startsWith('#')) inQuery = false;
      else fail('after a query: `+ `, `- ` or `= ` lines');
      return;
    }
    if (line.startsWith('%')) {
      const rest = line.slice(1);
      const space = rest.indexOf(' ');
      const [which, spec] = space < 0 ? [rest, ''] : [rest.slice(0, space), rest.slice(space + 1)];
      try {
        parseBundleLine(spec, bundleCheckFor(cell.expected, which), which === '%');
      } catch (e) {
        fail(e.message);
      }
      return;
    }
    if (line === '|') cell.expected.stdout += '\n';
    else if (line.startsWith('|~ ')) cell.expected.stdout += line.slice(3);
    else if (line.startsWith('| ')) cell.expected.stdout += line.slice(2) + '\n';
    else if (line.startsWith('!! ')) {
      if (cell.expected.error) fail('a cell has at most one `!!` error');
      const e = parseErrorLine(line.slice(3));
      if (!e) fail('expected `!! KIND[ @L:C[-L:C]]: MESSAGE` with KIND parse, type, runtime or limit');
      cell.expected.error = e;
    } else if (line.startsWith('#') && display.length === 0) {
      // a comment between cells
    } else if (c.script) {
      if (line.trim() !== '') fail('a script case checks only `|` output and `!!` errors');
    } else display.push(line);
  });
  flush();
  for (const c of cases) if (!c.cells.length) throw new Error(`${file}:${c.line}: a case needs at least one \`>>>\` cell`);
  for (const c of cases) {
    for (const cell of c.cells) {
      try {
        cell.source = expand(cell.source);
      } catch (e) {
        throw new Error(`${file}:${cell.line}: ${e.message}`);
      }
    }
  }
  return cases;
}

/** `{{repeat N TEXT}}`: TEXT N times (`\n` in TEXT is a newline). */
function expand(source) {
  let out = '';
  let rest = source;
  for (let at = rest.indexOf('{{repeat '); at >= 0; at = rest.indexOf('{{repeat ')) {
    out += rest.slice(0, at);
    const body = rest.slice(at + '{{repeat '.length);
    const end = body.indexOf('}}');
    if (end < 0) throw new Error('`{{repeat` without `}}`');
    const inner = body.slice(0, end);
    const space = inner.indexOf(' ');
    if (space < 0) throw new Error('`{{repeat N TEXT}}`');
    const count = parseCount(inner.slice(0, space));
    if (count === undefined) throw new Error(`not a count: ${inner.slice(0, space)}`);
    out += inner.slice(space + 1).replaceAll('\\n', '\n').repeat(count);
    rest = body.slice(end + 2);
  }
  return out + rest;
}

/** What the runner observed, from the component's cell result. */
export function actualOf(r) {
  const d = r.diagnostic;
  const forms = (b) => b.map((m) => [m.mime, m.data]);
  return {
    display: r.display,
    stdout: r.stdout,
    error: d && {
      kind: d.kind,
      message: d.message,
      start: { line: d.span.line, column: d.span.column },
      end: { line: d.span.endLine, column: d.span.endColumn },
    },
    bundle: r.bundle && forms(r.bundle),
    outputs: (r.outputs ?? []).map((o) => [forms(o.bundle), o.stdoutOffset]),
  };
}

const q = JSON.stringify;
const shorten = (s) => ([...s].length <= 300 ? s : `${[...s].slice(0, 300).join('')}... (${utf8Length(s)} bytes)`);

/** How often `text` occurs in `data`, as Rust's `str::matches(..).count()` (non-overlapping;
 * the empty text matches at every character boundary). */
function countOf(data, text) {
  return text === '' ? [...data].length + 1 : data.split(text).length - 1;
}

/** Whether one `contains`/`count`/`xml` check holds of a bundle; problems are pushed. */
function checkForm(what, f, form, problems) {
  const data = form(f.mime);
  let ok;
  let say;
  if (f.check === 'contains') {
    ok = data !== undefined && data.includes(f.text);
    say = `contains ${q(f.text)}`;
  } else if (f.check === 'count') {
    // (an absent form fails even `count 0`: the check is about that form)
    const got = data === undefined ? 0 : countOf(data, f.text);
    ok = data !== undefined && got === f.n;
    say = `has ${f.n} of ${q(f.text)} (found ${got})`;
  } else {
    const why = data === undefined ? null : xmlProblem(data);
    ok = data !== undefined && why === null;
    say = why ? `is well-formed XML (${why})` : 'is well-formed XML';
  }
  if (!ok) problems.push(`  ${what}: expected its ${f.mime} ${say}: ${data === undefined ? '(absent)' : shorten(data)}`);
}

function checkBundle(what, e, b, offset, problems) {
  const mimes = b.map(([m]) => m);
  const want = e.mimes ?? ['text/plain'];
  if (q(mimes) !== q(want)) problems.push(`  ${what}: MIME types ${q(want)} expected, got ${q(mimes)}`);
  if (e.offset !== undefined && offset !== undefined && e.offset !== offset) {
    problems.push(`  ${what}: stdout offset ${e.offset} expected, got ${offset}`);
  }
  const form = (mime) => b.find(([m]) => m === mime)?.[1];
  for (const f of e.forms) checkForm(what, f, form, problems);
}

/** The differences between what a cell expects and what it did, one string each. */
export function compare(expected, actual) {
  const problems = [];
  if (expected.stdout !== actual.stdout) problems.push(`  stdout:  expected ${q(expected.stdout)}\n           got      ${q(actual.stdout)}`);
  if (expected.display !== actual.display) problems.push(`  display: expected ${q(expected.display)}\n           got      ${q(actual.display)}`);
  const e = expected.error;
  const a = actual.error;
  const samePos = (e, a) => e === undefined || (e.line === a.line && e.column === a.column);
  if (e && !a) problems.push(`  error:   expected ${e.kind} error ${q(e.message)}, got none`);
  else if (!e && a) problems.push(`  error:   expected none, got ${a.kind} error ${q(a.message)} at ${a.start.line}:${a.start.column}`);
  else if (e && a && (e.kind !== a.kind || !messageMatches(e.message, a.message) || !samePos(e.start, a.start) || !samePos(e.end, a.end))) {
    problems.push(`  error:   expected ${e.kind} ${q(e.start)} ${q(e.message)}\n           got      ${a.kind} @${a.start.line}:${a.start.column}-${a.end.line}:${a.end.column}: ${q(a.message)}`);
  }
  const b = actual.bundle;
  const bundleChecked = expected.bundle.mimes !== undefined || expected.bundle.forms.length > 0;
  if (!b && bundleChecked) problems.push('  bundle:  `%%` lines on a cell that shows no value');
  if (actual.display !== undefined && !b) problems.push('  bundle:  missing (the value has a display)');
  else if (actual.display === undefined && b) problems.push('  bundle:  present but the value has no display');
  else if (b) {
    if (b[0]?.[0] !== 'text/plain' || b[0][1] !== actual.display) problems.push(`  bundle:  text/plain is not first or is not the display: ${q(b)}`);
    checkBundle('value', expected.bundle, b, undefined, problems);
  }
  if (expected.outputs.length !== actual.outputs.length) {
    problems.push(`  outputs: expected ${expected.outputs.length}, got ${actual.outputs.length}: ${q(actual.outputs.map(([b]) => b.map(([m]) => m)))}`);
  } else {
    expected.outputs.forEach((e, i) => checkBundle(`output ${i + 1}`, e, actual.outputs[i][0], actual.outputs[i][1], problems));
  }
  return problems;
}

/** Asks the session a query; the answer in the shape check_query reads. */
export function ask(session, query) {
  if (query.kind === 'complete') {
    const c = session.complete(query.source, query.cursor);
    return { kind: 'completions', start: c.replace.start, end: c.replace.end, items: c.items.map((i) => [i.label, i.kind]) };
  }
  if (query.kind === 'inspect') return { kind: 'inspection', markdown: session.inspect(query.source, query.cursor)?.markdown };
  if (query.kind === 'is-complete') {
    const c = session.isComplete(query.source);
    return { kind: 'completeness', text: c.tag === 'incomplete' ? `incomplete ${utf8Length(c.val)}` : c.tag };
  }
  return { kind: 'variables', vars: session.variables().map((v) => [v.name, v.typeName, v.display]) };
}

/** Whether one `+`/`-`/`=` expectation holds of an answer. */
function holds(a, { op, text: t }) {
  if (a.kind === 'completions') {
    if (op === 'has') {
      const space = t.indexOf(' ');
      const [label, kind] = space < 0 ? [t, undefined] : [t.slice(0, space), t.slice(space + 1)];
      return a.items.some(([l, k]) => l === label && (kind === undefined || k === kind));
    }
    if (op === 'lacks') return !a.items.some(([l]) => l === t);
    return t === `${a.start}-${a.end}`;
  }
  if (a.kind === 'inspection') {
    if (op === 'has') return a.markdown !== undefined && a.markdown.includes(t);
    if (op === 'lacks') return a.markdown === undefined || !a.markdown.includes(t);
    return t === 'none' && a.markdown === undefined;
  }
  if (a.kind === 'completeness') return op === 'is' && a.text === t;
  if (op === 'has') return a.vars.some(([n, ty, d]) => `${n}: ${ty} = ${d}` === t);
  if (op === 'lacks') return !a.vars.some(([n]) => n === t);
  return parseCount(t) === a.vars.length;
}

/** The expectations of a query its answer does not meet, described; empty when all hold. */
export function checkQuery(query, answer) {
  const sign = { has: '+', lacks: '-', is: '=' };
  const missed = query.expect.filter((e) => !holds(answer, e)).map((e) => `  expected ${sign[e.op]} ${e.text}`);
  return missed.length ? [...missed, `  got ${q(answer)}`] : [];
}

/** Whether a message is the expected one: equal, or starting with what comes before an
 *  expected message's final ` ...` (as the Rust harness). */
export function messageMatches(expected, actual) {
  return expected.endsWith(' ...') ? actual.startsWith(expected.slice(0, -4)) : expected === actual;
}
