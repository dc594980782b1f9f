// The component's records as JSON, for `--json` output, in exactly the shape host-rs prints
// (host-rs/src/json.rs): field names as in the WIT with `_` for `-`; enum cases as strings; a
// variant as `{"tag": CASE, "val": PAYLOAD}`; an `option` as the value or `null`. The text is
// serde_json's too (keys sorted, two-space indent, `1.0` for a whole f64), so the two hosts'
// outputs can be compared byte for byte.

/** A WIT f64: serde_json writes a whole one as `1.0`, JavaScript as `1`. */
class F64 {
  constructor(x) {
    this.x = x;
  }
}

const f64 = (x) => new F64(x);
const opt = (v, f) => (v === undefined ? null : f(v));

export function span(s) {
  return { start: s.start, end: s.end, line: s.line, column: s.column, end_line: s.endLine, end_column: s.endColumn };
}

export function diagnostic(d) {
  return { kind: d.kind, message: d.message, span: span(d.span) };
}

export function bundle(b) {
  return b.map((m) => ({ mime: m.mime, data: m.data }));
}

export function cellResult(r) {
  const p = r.performance;
  return {
    display: opt(r.display, (d) => d),
    bundle: opt(r.bundle, bundle),
    outputs: r.outputs.map((o) => ({ bundle: bundle(o.bundle), stdout_offset: o.stdoutOffset })),
    stdout: r.stdout,
    diagnostic: opt(r.diagnostic, diagnostic),
    performance: {
      total_us: f64(p.totalUs), parse_us: f64(p.parseUs), compile_us: f64(p.compileUs),
      evaluate_us: f64(p.evaluateUs), target_met: p.targetMet,
    },
  };
}

export function completions(c) {
  return {
    replace: span(c.replace),
    items: c.items.map((i) => ({ label: i.label, kind: i.kind, detail: i.detail })),
  };
}

export function inspection(i) {
  return opt(i, (i) => ({ span: span(i.span), markdown: i.markdown }));
}

export function completeness(c) {
  return c.tag === 'incomplete' ? { tag: c.tag, val: c.val } : { tag: c.tag };
}

export function variables(vs) {
  return vs.map((v) => ({ name: v.name, type_name: v.typeName, display: v.display }));
}

export function variablesUpdate(u) {
  return { generation: u.generation, changed: variables(u.changed) };
}

function number(x) {
  if (x instanceof F64) {
    const s = String(x.x);
    return Number.isInteger(x.x) && !s.includes('e') ? `${s}.0` : s;
  }
  return String(x);
}

/** serde_json's text: `to_string_pretty` when `pretty`, else `to_string` (keys sorted: its
 * maps are BTreeMaps). */
export function stringify(v, pretty = true, indent = '') {
  if (v === null) return 'null';
  if (v instanceof F64 || typeof v === 'number') return number(v);
  if (typeof v === 'bigint') return String(v); // a WIT u64
  if (typeof v !== 'object') return JSON.stringify(v);
  const inner = pretty ? `${indent}  ` : '';
  const [open, close, items] = Array.isArray(v)
    ? ['[', ']', v.map((x) => stringify(x, pretty, inner))]
    : ['{', '}', Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${pretty ? ' ' : ''}${stringify(v[k], pretty, inner)}`)];
  if (!items.length) return open + close;
  if (!pretty) return `${open}${items.join(',')}${close}`;
  return `${open}\n${items.map((x) => inner + x).join(',\n')}\n${indent}${close}`;
}
