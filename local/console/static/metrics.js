// The app's metrics, as the stage's CloudWatch dashboard charts them (the same charts,
// infra/dashboard.py), over the last minutes: GET /_local/api/metrics/charts, drawn as small
// SVG line charts. Each line has its colour and its dash pattern, and its value in words.

import { el, every, formatTime, getJson, svg } from './util.js';

const COLOURS = ['#0969da', '#1a7f37', '#cf222e', '#8250df', '#9a6700', '#bc4c00'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3', '1 2', '10 4'];
// Line i's colour and dash pattern: a pair of its own for the first 36 lines of a chart (the
// failures by error code draw ten).
const colour = (i) => COLOURS[i % COLOURS.length];
const dash = (i) => DASHES[(i + Math.floor(i / COLOURS.length)) % DASHES.length];
const WIDTH = 360;
const HEIGHT = 150;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

export function metricsView(container) {
  const minutes = el(
    'select',
    { id: 'minutes', name: 'minutes' },
    [5, 15].map((n) => el('option', { value: n }, `last ${n} minutes`)),
  );
  minutes.value = sessionStorage.getItem('metrics-minutes') || '15';
  const period = el(
    'select',
    { id: 'period', name: 'period' },
    [10, 30, 60].map((n) => el('option', { value: n }, `per ${n} s`)),
  );
  period.value = sessionStorage.getItem('metrics-period') || '10';
  const updated = el('span', { class: 'muted', id: 'metrics-updated' });
  const grid = el('div', { class: 'charts', id: 'charts' });
  const about = el('p', { class: 'muted', id: 'metrics-about' });
  container.replaceChildren(
    el('h1', {}, 'Metrics'),
    el(
      'form',
      { class: 'toolbar', onsubmit: (e) => e.preventDefault() },
      el('label', { for: 'minutes' }, 'Window '),
      minutes,
      el('label', { for: 'period' }, 'Period '),
      period,
      updated,
    ),
    about,
    grid,
  );
  let etag = null;
  const refresh = async () => {
    const answer = await getJson(`/_local/api/metrics/charts?minutes=${minutes.value}&period=${period.value}`, etag);
    updated.textContent = `updated ${formatTime(new Date().toISOString())}`;
    if (!answer.changed) return;
    etag = answer.etag;
    const { namespace, dimensions, start, period: seconds, charts } = answer.body;
    const stage = Object.entries(dimensions).map(([k, v]) => `${k}=${v}`).join(', ');
    about.textContent =
      `What the functions wrote as embedded metric format (namespace ${namespace}, ${stage}), ` +
      'read from their log lines as CloudWatch reads them; the same charts as the stage\u2019s dashboard on AWS.';
    const window = { start: Date.parse(start), period: seconds, minutes: Number(minutes.value) };
    grid.replaceChildren(...charts.map((c) => chartFigure(c, window)));
  };
  const poller = every(5, refresh);
  const changed = () => {
    sessionStorage.setItem('metrics-minutes', minutes.value);
    sessionStorage.setItem('metrics-period', period.value);
    etag = null;
    refresh().catch((e) => console.warn(e.message));
  };
  minutes.addEventListener('change', changed);
  period.addEventListener('change', changed);
  return () => poller.stop();
}

// A line's value: the sum over the window for a count, else the latest period's value.
function value(line) {
  const values = line.values.filter((v) => v !== null);
  if (!values.length) return null;
  return line.stat === 'Sum' ? values.reduce((a, b) => a + b, 0) : values[values.length - 1];
}

function summary(line, unit, minutes) {
  const found = value(line);
  if (found === null) return 'no data';
  if (line.stat === 'Sum') return `${found} in ${minutes} min`;
  return unit === 'ms' ? `latest ${Math.round(found)} ms` : `latest ${found}`;
}

function chartFigure(chart, { start, period, minutes }) {
  const count = chart.lines[0]?.values.length || 0;
  const highest = Math.max(0, ...chart.lines.flatMap((l) => l.values.filter((v) => v !== null)));
  const top = niceTop(highest);
  const x = (i) => PAD.left + (count > 1 ? (i / (count - 1)) * (WIDTH - PAD.left - PAD.right) : 0);
  const y = (v) => PAD.top + (1 - v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const summaries = chart.lines.map((line) => summary(line, chart.unit, minutes));
  const label = `${chart.title} (${chart.unit}): ` + chart.lines.map((l, i) => `${l.label} ${summaries[i]}`).join('; ');
  const end = start + count * period * 1000;
  const drawing = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label, class: 'chart-plot' },
    svg('line', { x1: PAD.left, y1: y(0), x2: WIDTH - PAD.right, y2: y(0), class: 'axis' }),
    svg('line', { x1: PAD.left, y1: y(top), x2: WIDTH - PAD.right, y2: y(top), class: 'grid' }),
    svg('text', { x: PAD.left - 4, y: y(top) + 4, class: 'tick', 'text-anchor': 'end' }, formatValue(top)),
    svg('text', { x: PAD.left - 4, y: y(0) + 4, class: 'tick', 'text-anchor': 'end' }, '0'),
    svg('text', { x: PAD.left, y: HEIGHT - 6, class: 'tick' }, formatTime(new Date(start).toISOString()).slice(0, 8)),
    svg('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, class: 'tick', 'text-anchor': 'end' }, formatTime(new Date(end).toISOString()).slice(0, 8)),
    chart.lines.map((line, i) => plot(line, i, x, y)),
  );
  return el(
    'figure',
    { class: 'card chart', 'data-chart': chart.title },
    el('figcaption', {}, el('strong', {}, chart.title), el('span', { class: 'muted' }, ` · ${chart.unit} per ${period} s`)),
    drawing,
    el(
      'ul',
      { class: 'legend' },
      chart.lines.map((line, i) =>
        el(
          'li',
          { 'data-line': line.label, 'data-value': value(line) ?? '' },
          svg(
            'svg',
            { width: 22, height: 10, 'aria-hidden': 'true' },
            svg('line', { x1: 0, y1: 5, x2: 22, y2: 5, stroke: colour(i), 'stroke-width': 2, 'stroke-dasharray': dash(i) }),
          ),
          el('span', {}, `${line.label}: `, el('span', { class: 'num' }, summaries[i])),
        ),
      ),
    ),
  );
}

// A line through its periods with data; a period alone between gaps is a dot.
function plot(line, i, x, y) {
  const stroke = colour(i);
  const parts = [];
  let path = '';
  line.values.forEach((v, k) => {
    if (v === null) return;
    const joined = k > 0 && line.values[k - 1] !== null;
    path += `${joined ? 'L' : 'M'}${x(k).toFixed(1)},${y(v).toFixed(1)}`;
    const alone = !joined && (k === line.values.length - 1 || line.values[k + 1] === null);
    if (alone) parts.push(svg('circle', { cx: x(k).toFixed(1), cy: y(v).toFixed(1), r: 3, fill: stroke }));
  });
  if (path) {
    parts.unshift(
      svg('path', { d: path, fill: 'none', stroke, 'stroke-width': 1.75, 'stroke-dasharray': dash(i), 'data-line': line.label }),
    );
  }
  return parts;
}

function niceTop(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((n) => n >= value);
}

function formatValue(value) {
  return value >= 10_000 ? `${value / 1000}k` : String(value);
}
