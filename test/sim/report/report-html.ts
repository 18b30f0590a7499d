/** Reading the report's HTML in tests: its charts, and the data marks each chart drew. */

export interface ChartHtml {
  /** `data-chart` of the chart's box: "rssi-vs-distance", "precision-recall", "contact-timeline". */
  id: string;
  html: string;
}

/** Every chart box of the page, in order. */
export function chartsOf(html: string): ChartHtml[] {
  return [...html.matchAll(/<div class="chart" data-chart="([^"]*)">([\s\S]*?)<\/div>/g)].map(
    (m) => ({ id: m[1], html: m[2] }),
  );
}

/**
 * Data marks (points, bars, lines) in a Vega SVG: the children of its `role-mark` groups,
 * which hold one element per datum (or per line), never axes or legends.
 */
export function chartMarks(svg: string): number {
  let count = 0;
  for (const m of svg.matchAll(/<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>/g)) {
    const end = svg.indexOf("</g>", m.index + m[0].length);
    const body = svg.slice(m.index + m[0].length, end);
    count += (body.match(/<(path|line|rect|text)\b/g) ?? []).length;
  }
  return count;
}
