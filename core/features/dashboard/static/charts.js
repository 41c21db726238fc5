// Inline SVG charts for the dashboard: a sparkline and a histogram, drawn with plain DOM calls so the
// page's Content-Security-Policy can forbid inline styles and scripts.

const SVG = 'http://www.w3.org/2000/svg';

/** @param {string} name @param {Record<string, string | number>} attributes */
function node(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/**
 * Draws `values` (oldest first; null = no data that second) as a line over `width`×`height`, with a
 * dashed line at `threshold` when it falls inside the scale.
 * @param {SVGSVGElement} svg @param {Array<number | null>} values @param {{ threshold?: number }} [options]
 */
export function drawSparkline(svg, values, options = {}) {
  const width = 240;
  const height = 48;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const known = values.filter((v) => v !== null);
  const top = Math.max(1, ...known, 0) * 1.1;
  const x = (i) => (values.length <= 1 ? 0 : (i / (values.length - 1)) * width);
  const y = (v) => height - 2 - (v / top) * (height - 4);
  svg.append(node('line', { x1: 0, x2: width, y1: height - 1, y2: height - 1, class: 'axis' }));
  if (options.threshold !== undefined && options.threshold <= top) {
    svg.append(node('line', { x1: 0, x2: width, y1: y(options.threshold), y2: y(options.threshold), class: 'threshold' }));
  }
  let path = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    path += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  if (path) svg.append(node('path', { d: path, class: 'spark' }));
  const last = values.length - 1;
  if (values[last] !== null && values[last] !== undefined) svg.append(node('circle', { cx: x(last), cy: y(values[last]), r: 2.5, class: 'spark-dot' }));
}

/**
 * Draws one bar per count; `labels` name the bars (also used in each bar's tooltip). Bars whose lower
 * bound reaches `alarmFrom` are marked as beyond the alarm.
 * @param {SVGSVGElement} svg @param {number[]} counts @param {string[]} labels @param {number} [alarmFrom]
 */
export function drawHistogram(svg, counts, labels, alarmFrom = Infinity) {
  const width = 240;
  const height = 56;
  const labelSpace = 12;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const top = Math.max(1, ...counts);
  const slot = width / counts.length;
  counts.forEach((count, i) => {
    const h = count === 0 ? 0 : Math.max(1.5, (count / top) * (height - labelSpace - 2));
    const bar = node('rect', {
      x: (i * slot + 1).toFixed(1),
      y: (height - labelSpace - h).toFixed(1),
      width: (slot - 2).toFixed(1),
      height: h.toFixed(1),
      class: i >= alarmFrom ? 'bar bar-alarm' : 'bar',
    });
    const title = node('title', {});
    title.textContent = `${labels[i]}: ${count}`;
    bar.append(title);
    svg.append(bar);
  });
  svg.append(node('line', { x1: 0, x2: width, y1: height - labelSpace, y2: height - labelSpace, class: 'axis' }));
  // First, middle and last bar named; the outer labels hug the edges so none is cut off.
  const ticks = [
    { i: 0, x: 1, anchor: 'start' },
    { i: Math.floor(counts.length / 2), x: Math.floor(counts.length / 2) * slot + slot / 2, anchor: 'middle' },
    { i: counts.length - 1, x: width - 1, anchor: 'end' },
  ];
  for (const tick of ticks) {
    const text = node('text', { x: tick.x.toFixed(1), y: height - 2, class: 'tick', 'text-anchor': tick.anchor });
    text.textContent = labels[tick.i] ?? '';
    svg.append(text);
  }
}
