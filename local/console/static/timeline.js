// An operation's traces as a timeline (X-Ray's, read by /_local/api/executions/{id}/trace):
// one row per segment or subsegment, indented as they nest, a bar at its offset and length,
// its duration, and what went wrong (error, fault, throttle), retries and the cause, in words
// as well as in colour.

import { el, formatDuration, getJson } from './util.js';

const KIND = {
  api: 'API Gateway',
  lambda: 'Lambda',
  function: 'function',
  workflow: 'Step Functions',
  state: 'state',
  stream: 'on the stream',
  aws: 'AWS call',
  local: 'app',
};

// The panel, and refresh() to call as the execution changes; it polls while a trace is still
// in progress (the functions' segments arrive as they end).
export function traceView(operationId) {
  const box = el('section', { class: 'trace', id: 'trace', 'aria-label': 'Trace timeline' });
  box.append(el('h2', {}, 'Trace'), el('p', { class: 'muted' }, 'Looking for the operation’s traces…'));
  let etag = null;
  const refresh = async () => {
    const answer = await getJson(`/_local/api/executions/${encodeURIComponent(operationId)}/trace`, etag);
    if (!answer.changed) return answer.body;
    etag = answer.etag;
    render(box, answer.body);
    return answer.body;
  };
  return { element: box, refresh };
}

function render(box, model) {
  const traces = model.traces;
  const parts = [
    el(
      'h2',
      {},
      'Trace ',
      el('span', { class: 'muted' }, traces.length === 1 ? '(1 X-Ray trace)' : `(${traces.length} X-Ray traces)`),
    ),
  ];
  if (!traces.length) {
    parts.push(
      el(
        'p',
        { class: 'muted' },
        'No trace carries this operation’s id (yet): the local stack samples requests as X-Ray’s default rule does, the first each second and 5% of the rest; make run ARGS=--trace-all traces every one.',
      ),
    );
  }
  traces.forEach((trace, index) => parts.push(group(trace, index)));
  box.replaceChildren(...parts);
}

function group(trace, index) {
  const title = trace.operation
    ? 'The operation’s trace'
    : trace.rows.some((row) => row.links?.operation)
      ? 'The starter’s invocation (linked)'
      : 'Another trace with this operation’s id';
  const about = [trace.request || trace.entry, formatDuration(trace.durationMs), trace.inProgress ? 'in progress' : null]
    .filter(Boolean)
    .join(' · ');
  return el(
    'div',
    { class: 'trace-group', 'data-trace-id': trace.id, 'data-operation-trace': String(trace.operation) },
    el('h3', {}, title, ' ', el('span', { class: 'mono trace-id' }, trace.id)),
    el('p', { class: 'muted trace-about' }, about),
    el(
      'ol',
      { class: 'timeline', 'aria-label': `${title}: ${trace.rows.length} segments` },
      el('li', { class: 'timeline-head', 'aria-hidden': 'true' }, el('span', {}, 'Segment'), el('span', {}, `0 → ${formatDuration(trace.durationMs)}`), el('span', {}, 'Duration')),
      trace.rows.map((row) => line(row, trace.durationMs, index)),
    ),
  );
}

function label(row) {
  if (row.kind === 'aws' && row.operation) return `${row.name} ${row.operation}`;
  if (row.kind === 'api' && row.request) return `${row.name} ${row.request}`;
  return row.name;
}

function notes(row) {
  const found = [];
  if (row.fault) found.push(el('span', { class: 'note fault' }, '✗ fault'));
  if (row.error) found.push(el('span', { class: 'note error' }, '⚠ error'));
  if (row.throttle) found.push(el('span', { class: 'note throttle' }, '◷ throttled'));
  if (row.retries) found.push(el('span', { class: 'note retries' }, `↻ ${row.retries} ${row.retries === 1 ? 'retry' : 'retries'}`));
  if (row.status && (row.kind === 'api' || row.status >= 400)) found.push(el('span', { class: 'note' }, `HTTP ${row.status}`));
  if (row.inProgress) found.push(el('span', { class: 'note running' }, '● in progress'));
  if (row.cause) found.push(el('span', { class: 'note cause' }, row.cause));
  return found;
}

function line(row, total, index) {
  const span = Math.max(total, 1);
  const left = Math.min(100, (row.startMs / span) * 100);
  const duration = row.durationMs ?? Math.max(0, total - row.startMs);
  const width = Math.max(0.3, Math.min(100 - left, (duration / span) * 100));
  const trouble = row.fault ? 'fault' : row.error ? 'error' : row.throttle ? 'throttle' : '';
  const kind = KIND[row.kind] || row.kind;
  const said = `${label(row)} (${kind}): ${row.durationMs === null ? 'in progress' : formatDuration(row.durationMs)}, from ${formatDuration(row.startMs)}`;
  // Positions are set through the CSSOM: the page's Content-Security-Policy refuses inline
  // style attributes.
  const name = el(
    'span',
    { class: 'span-label' },
    el('span', { class: 'span-name' }, label(row)),
    ' ',
    el('span', { class: 'span-kind' }, kind),
  );
  name.style.paddingLeft = `${row.depth * 14}px`;
  const bar = el('span', { class: 'span-bar' });
  bar.style.left = `${left.toFixed(2)}%`;
  bar.style.width = `${width.toFixed(2)}%`;
  return el(
    'li',
    {
      class: `span kind-${row.kind} ${trouble}`,
      'data-name': row.name,
      'data-kind': row.kind,
      'data-depth': row.depth,
      'data-trace': index,
      title: said,
    },
    name,
    el('span', { class: 'span-track', 'aria-hidden': 'true' }, bar),
    el('span', { class: 'span-duration num' }, row.durationMs === null ? '…' : formatDuration(row.durationMs)),
    el('span', { class: 'span-notes' }, notes(row)),
  );
}
