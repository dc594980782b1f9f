// Whether a text is well-formed XML, as the Rust corpus harness judges it with roxmltree 0.21's
// `Document::parse` (tests/harness: `%% MIME xml`). fast-xml-parser's validator checks tags,
// nesting and attributes; roxmltree is stricter in a few ways the validator lets through, so
// those are checked here too: no DTD (roxmltree's default refuses any `<!DOCTYPE`), one root
// element and no text outside it, only the predefined entities and character references, no
// `<` or bare `&` in attribute values, only characters XML allows, declared namespace prefixes.
import { XMLValidator } from 'fast-xml-parser';

// XML 1.0's Char production
const BAD_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'apos', 'quot']);
// a start, end or empty-element tag, with quoted attribute values kept whole
const TAG = /<(\/?)([^\s/>]+)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const ATTR = /([^\s=]+)\s*=\s*("[^"]*"|'[^']*')/g;

const allowedCode = (n) => n <= 0x10ffff && !BAD_CHAR.test(String.fromCodePoint(n));

/** `&...` references in `text` that roxmltree refuses; `null` when all are fine. */
function badReference(text) {
  for (const m of text.matchAll(/&([^;&<\s"']*)(;?)/g)) {
    const [all, name, semi] = m;
    if (!semi) return `a bare & (${all})`;
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
    if (num ? !allowedCode(parseInt(num[1] ?? num[2], num[1] ? 16 : 10)) : !PREDEFINED.has(name)) {
      return `an unknown or invalid reference ${all}`;
    }
  }
  return null;
}

/** Why `text` is not well-formed XML, or `null` when it is. */
export function xmlProblem(text) {
  const r = XMLValidator.validate(text);
  if (r !== true) return `${r.err.msg} (line ${r.err.line})`;
  if (BAD_CHAR.test(text)) return 'a character XML does not allow';
  // comments, CDATA and processing instructions hold no tags or references
  const body = text
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ' ')
    .replace(/<\?[\s\S]*?\?>/g, ' ');
  if (body.includes('<!DOCTYPE')) return 'a DTD (roxmltree refuses them)';
  const prefixes = new Set(['xml', 'xmlns']);
  for (const m of body.matchAll(/\sxmlns:([^\s=]+)\s*=/g)) prefixes.add(m[1]);
  const undeclared = (name) => name.includes(':') && !prefixes.has(name.split(':')[0]);
  let depth = 0;
  let roots = 0;
  let last = 0;
  for (const m of body.matchAll(TAG)) {
    const between = body.slice(last, m.index);
    if (depth === 0 && between.trim()) return 'text outside the root element';
    const ref = badReference(between);
    if (ref) return ref;
    last = m.index + m[0].length;
    const [, close, name, rest] = m;
    if (undeclared(name)) return `an undeclared namespace prefix in <${name}>`;
    if (close) {
      depth--;
      continue;
    }
    for (const [, attr, value] of rest.matchAll(ATTR)) {
      if (undeclared(attr)) return `an undeclared namespace prefix in ${attr}`;
      if (value.includes('<')) return `a < in the value of ${attr}`;
      const bad = badReference(value);
      if (bad) return `${bad} in the value of ${attr}`;
    }
    if (depth === 0 && ++roots > 1) return 'more than one root element';
    if (!rest.trimEnd().endsWith('/')) depth++;
  }
  if (body.slice(last).trim()) return 'text outside the root element';
  return roots === 1 ? null : 'no root element';
}
