// Small helpers shared by the console's views: elements, fetching, formatting.

// el('a', {href: '#/', class: 'x'}, 'text', child...) -> an HTML element.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attributes);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
}

// GET a JSON document. Answers carry an ETag and `Cache-Control: no-cache`: the browser
// revalidates, the server answers 304 while nothing changed, and `changed` says so.
export async function getJson(url, previousEtag = null) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  const etag = response.headers.get('ETag');
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    const error = new Error(problem.detail || `${response.status} ${response.statusText}`);
    error.status = response.status;
    throw error;
  }
  if (etag && etag === previousEtag) return { changed: false, etag, body: null };
  return { changed: true, etag, body: await response.json() };
}

// Repeats `task` every `seconds` while the page is visible and `active()` says so;
// stop() ends it. The first run is immediate.
export function every(seconds, task, active = () => true) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (document.visibilityState === 'visible' && active()) {
      try {
        await task();
      } catch (error) {
        console.warn('refresh failed:', error.message);
      }
    }
    if (!stopped) timer = setTimeout(run, seconds * 1000);
  };
  run();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export function formatDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  const time = date.toLocaleTimeString([], { hour12: false });
  return `${time}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return `${date.toLocaleDateString()} ${formatTime(iso)}`;
}

// A JSON string (as Step Functions gives input and output), indented; text if not JSON.
export function prettyJson(text) {
  if (text === null || text === undefined) return '—';
  if (typeof text !== 'string') return JSON.stringify(text, null, 2);
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// Execution statuses (Step Functions') and state statuses (the console's), in words and a
// glyph, so that no status is told by colour alone.
export const EXECUTION_STATUS = {
  RUNNING: { glyph: '●', text: 'running' },
  SUCCEEDED: { glyph: '✓', text: 'succeeded' },
  FAILED: { glyph: '✗', text: 'failed' },
  TIMED_OUT: { glyph: '◷', text: 'timed out' },
  ABORTED: { glyph: '■', text: 'aborted' },
  PENDING_REDRIVE: { glyph: '↻', text: 'pending redrive' },
};

export const STATE_STATUS = {
  succeeded: { glyph: '✓', text: 'succeeded' },
  retried: { glyph: '↻', text: 'retried' },
  caught: { glyph: '⚠', text: 'caught' },
  failed: { glyph: '✗', text: 'failed' },
  running: { glyph: '●', text: 'running' },
  waiting: { glyph: '◷', text: 'waiting' },
  'not-reached': { glyph: '○', text: 'not reached' },
};

const OPERATION_STATUS = {
  PENDING: { glyph: '○', text: 'pending', tone: 'running' },
  RUNNING: { glyph: '●', text: 'running', tone: 'running' },
  SUCCEEDED: { glyph: '✓', text: 'succeeded', tone: 'succeeded' },
  FAILED: { glyph: '✗', text: 'failed', tone: 'failed' },
};

// The operation's own outcome (what the client sees at GET /operations/{id}): its status with
// its error code, or the step it waits in; a refused user's execution succeeds all the same.
export function outcomeBadge(outcome) {
  if (!outcome) return el('span', { class: 'muted' }, '—');
  const known = OPERATION_STATUS[outcome.status] || { glyph: '?', text: outcome.status, tone: 'running' };
  const detail = outcome.code || (outcome.step ? outcome.step.toLowerCase().replaceAll('_', ' ') : '');
  return el(
    'span',
    { class: `badge execution-${known.tone}` },
    el('span', { 'aria-hidden': 'true' }, known.glyph),
    ` ${known.text}`,
    detail ? el('span', { class: 'mono' }, ` ${detail}`) : '',
  );
}

export function statusBadge(status) {
  const known = EXECUTION_STATUS[status] || { glyph: '?', text: status };
  return el(
    'span',
    { class: `badge execution-${status.toLowerCase()}` },
    el('span', { 'aria-hidden': 'true' }, known.glyph),
    ` ${known.text}`,
  );
}
