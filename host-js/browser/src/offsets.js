// Positions between the component and the editor: the component counts UTF-8 bytes (spans,
// cursors), CodeMirror counts UTF-16 code units.

const utf8Length = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/** UTF-8 byte offset in `text` to a UTF-16 offset. */
export function byteToUtf16(text, byte) {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= byte) break;
    bytes += utf8Length(ch.codePointAt(0));
    i += ch.length;
  }
  return i;
}

/** UTF-16 offset in `text` to a UTF-8 byte offset. */
export function utf16ToByte(text, offset) {
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (i >= offset) break;
    bytes += utf8Length(ch.codePointAt(0));
    i += ch.length;
  }
  return bytes;
}
