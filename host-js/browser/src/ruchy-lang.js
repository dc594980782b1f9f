// Ruchy syntax highlighting for CodeMirror 6: a stream tokenizer, for colours only. It never
// decides what a program means (the component does); it only has to agree with the engine's
// lexer (engine/syntax/src/lexer.rs) on where comments, strings and numbers start and end.
import { StreamLanguage, LanguageSupport, indentUnit } from '@codemirror/language';

/** The words the editor shows as keywords. */
export const KEYWORDS = new Set([
  'fun', 'fn', 'let', 'var', 'mut', 'const', 'static', 'if', 'else', 'match', 'for', 'in',
  'while', 'loop', 'break', 'continue', 'return', 'struct', 'enum', 'impl', 'trait', 'true',
  'false', 'nil', 'null', 'try', 'catch', 'finally', 'throw', 'as', 'pub', 'self', 'where',
  'use', 'type',
]);

const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)(?:[iu](?:8|16|32|64|128|size)|f32|f64)?/;
const OPERATOR = /^(?:\.\.=|\.\.\.|\.\.|=>|->|::|\|>|<<=|>>=|<<|>>|&&|\|\||\?\?|[-+*/%=<>!&|^]=?|[~?@])/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;

const top = (state) => state.stack[state.stack.length - 1];

function copyState(state) {
  return { stack: state.stack.map((m) => ({ ...m })), depth: state.depth, afterFun: state.afterFun };
}

/** Inside "..." (or f"...", b"..."), after the opening quote. */
function tokenString(stream, state, mode) {
  if (stream.match(/^\\(?:u\{[0-9a-fA-F]*\}?|x[0-9a-fA-F]{0,2}|.)?/)) return 'string.special';
  if (mode.f && (stream.match('{{') || stream.match('}}'))) return 'string.special';
  if (mode.f && stream.peek() === '{') {
    stream.next();
    state.stack.push({ t: 'hole', depth: 0 });
    return 'punctuation.special';
  }
  if (stream.peek() === mode.q) {
    stream.next();
    state.stack.pop();
    return 'string';
  }
  const stop = mode.f ? /[\\{}]/ : /\\/;
  while (!stream.eol()) {
    const c = stream.peek();
    if (c === mode.q || stop.test(c)) break;
    stream.next();
  }
  if (stream.pos === stream.start) stream.next(); // a lone `}` in an f-string
  return 'string';
}

/** Inside r"..." or r#"..."#: no escapes, ends at the quote and as many `#`. */
function tokenRaw(stream, state, mode) {
  const end = '"' + '#'.repeat(mode.hashes);
  while (!stream.eol()) {
    if (stream.match(end)) {
      state.stack.pop();
      return 'string';
    }
    stream.next();
  }
  return 'string';
}

/** Inside a (nested) block comment. */
function tokenBlock(stream, state, mode) {
  while (!stream.eol()) {
    if (stream.match('/*')) mode.depth++;
    else if (stream.match('*/')) {
      mode.depth--;
      if (mode.depth === 0) {
        state.stack.pop();
        return 'comment';
      }
    } else stream.next();
  }
  return 'comment';
}

/** Code: at the top level or inside an f-string's `{...}` hole. */
function tokenCode(stream, state, mode) {
  if (stream.eatSpace()) return null;
  if (stream.match('//')) {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match('/*')) {
    state.stack.push({ t: 'block', depth: 1 });
    return tokenBlock(stream, state, top(state));
  }
  if (stream.match(/^#\[[^\]]*\]?/)) return 'meta';
  if (stream.peek() === '#') {
    stream.skipToEnd();
    return 'comment';
  }
  // string prefixes, as the engine's lexer reads them: f"..", r"..", r#".."#, b".." and b'..'
  const prefix = stream.match(/^(?:f"|b"|b'|r#*")/, false);
  if (prefix) {
    const p = prefix[0];
    stream.pos += p.length;
    if (p[0] === 'r') state.stack.push({ t: 'raw', hashes: p.length - 2 });
    else state.stack.push({ t: 'str', q: p[1], f: p[0] === 'f' });
    return 'string';
  }
  const c = stream.peek();
  if (c === '"') {
    stream.next();
    state.stack.push({ t: 'str', q: '"', f: false });
    return 'string';
  }
  if (c === "'") {
    // a label ('outer:) or a quoted string/char ('a', 'text')
    if (stream.match(/^'[A-Za-z_][A-Za-z0-9_]*(?!')/, false) && !/'/.test(stream.string.slice(stream.pos + 1))) {
      stream.match(/^'[A-Za-z_][A-Za-z0-9_]*/);
      return 'labelName';
    }
    stream.next();
    state.stack.push({ t: 'str', q: "'", f: false });
    return 'string';
  }
  if (stream.match(NUMBER)) return 'number';
  const word = stream.match(IDENT);
  if (word) {
    const w = word[0];
    const afterFun = state.afterFun;
    state.afterFun = w === 'fun' || w === 'fn';
    if (KEYWORDS.has(w)) return 'keyword';
    if (afterFun) return 'variableName.definition';
    if (/^[A-Z]/.test(w)) return 'typeName';
    if (stream.match(/^\s*\(/, false)) return 'variableName.function';
    return 'variableName';
  }
  state.afterFun = false;
  if ('([{'.includes(c)) {
    stream.next();
    if (mode.t === 'hole') mode.depth++;
    else state.depth++;
    return 'punctuation';
  }
  if (')]}'.includes(c)) {
    stream.next();
    if (mode.t === 'hole') {
      if (c === '}' && mode.depth === 0) {
        state.stack.pop();
        return 'punctuation.special';
      }
      mode.depth = Math.max(0, mode.depth - 1);
    } else state.depth = Math.max(0, state.depth - 1);
    return 'punctuation';
  }
  if (stream.match(OPERATOR)) return 'operator';
  stream.next();
  return 'punctuation';
}

/** The stream parser: its state is a stack of modes (code, string, raw string, comment, hole). */
export const ruchyParser = {
  name: 'ruchy',
  startState: () => ({ stack: [{ t: 'code' }], depth: 0, afterFun: false }),
  copyState,
  token(stream, state) {
    const mode = top(state);
    switch (mode.t) {
      case 'str': return tokenString(stream, state, mode);
      case 'raw': return tokenRaw(stream, state, mode);
      case 'block': return tokenBlock(stream, state, mode);
      default: return tokenCode(stream, state, mode);
    }
  },
  indent(state, textAfter, cx) {
    if (top(state).t !== 'code') return null;
    const closing = /^\s*[}\])]/.test(textAfter) ? 1 : 0;
    return Math.max(0, state.depth - closing) * cx.unit;
  },
  languageData: {
    commentTokens: { line: '//', block: { open: '/*', close: '*/' } },
    // f"..", r".." and b".." open a pair of quotes like a plain string
    closeBrackets: { brackets: ['(', '[', '{', '"'], stringPrefixes: ['f', 'r', 'b'] },
    indentOnInput: /^\s*[}\])]$/,
  },
};

export const ruchyLanguage = StreamLanguage.define(ruchyParser);

/** The Ruchy language for an editor: highlighting, comments, brackets, indentation. */
export function ruchy() {
  return new LanguageSupport(ruchyLanguage, [indentUnit.of('    ')]);
}
