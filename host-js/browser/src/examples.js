// Notebooks the page can start with (`?example=NAME`: welcome, the default; rich; seed; empty).

/** The seed's five benchmark cells, in order. */
export const SEED_CELLS = [
  'let x = 42',
  'let y = x * 2 + 1',
  'fun double(n: Int) -> Int { n * 2 }',
  'let result = double(21)',
  'if x > 0 { x } else { 0 }',
];

const md = (source) => ({ type: 'markdown', source });
const code = (source) => ({ type: 'code', source });

export const EXAMPLES = {
  welcome: {
    name: 'welcome',
    cells: [
      md('# Ruchy notebook\n\nEach code cell runs in one session that keeps its bindings from cell to cell, inside the `ruchy:notebook` WebAssembly component running in a Web Worker.\n\n**Shift+Enter** runs a cell and moves on, **Ctrl+Enter** runs it in place, **Alt+Enter** runs it and adds a cell below.'),
      code('let name = "Ruchy"\nlet x = 42'),
      code('fun double(n: Int) -> Int { n * 2 }\nprintln(f"Hello, {name}! double({x}) = {double(x)}")\ndouble(x)'),
      code('[1, 2, 3, 4].map(|n| n * n)'),
      code('// an error shows its line and a caret under the span\nlet ratio = x / 0'),
    ],
  },
  seed: {
    name: 'seed',
    cells: [md('# The seed cells'), ...SEED_CELLS.map(code)],
  },
  rich: {
    name: 'rich outputs',
    cells: [
      md('# Rich outputs\n\nA value shows in its richest form: an array of objects as a table, a chart as an SVG drawing, `markdown(..)` as formatted text. `display(v)` shows a value where it is made, between the printed lines.'),
      code('let sales = [{month: "Jan", units: 120}, {month: "Feb", units: 95}, {month: "Mar", units: 143}]\nsales'),
      code('println("units by month:")\ndisplay(bar_chart(sales.map(|r| r.month), sales.map(|r| r.units), {title: "Units"}))\nprintln("done")'),
      code('line_chart([1, 2, 3, 4], [2.5, 4, 3.2, 5], {title: "Trend", x_label: "week"})'),
      code('markdown("## Summary\\n\\n*Best month*: **Mar**")'),
    ],
  },
  empty: { name: 'untitled', cells: [code('')] },
};
