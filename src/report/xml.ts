// Text and attribute escaping for the XML-family outputs (HTML, SVG, JUnit).

/** Characters XML 1.0 does not allow at all: dropped, or the JUnit file would not parse. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const esc = (text: string | number) =>
  String(text)
    .replace(FORBIDDEN, '')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!);
