// One execution: the graph of the real definition marked by what it did, the selected
// state's details and log lines, the event history, the definition itself.

import { drawGraph, statusLine } from './graph.js';
import { traceView } from './timeline.js';
import {
  el,
  every,
  formatDateTime,
  formatDuration,
  formatTime,
  getJson,
  prettyJson,
  STATE_STATUS,
  statusBadge,
} from './util.js';

const START = '__start__';
const END = '__end__';

export function executionView(main, operationId) {
  let etag = null;
  let execution = null;
  let selected = null;
  let graph = null;
  const header = el('div', { class: 'execution-header' });
  const graphBox = el('div', { class: 'graph-box', id: 'graph' });
  const details = el('section', {
    class: 'state-details',
    id: 'state-details',
    'aria-live': 'polite',
    'aria-label': 'Selected state',
  });
  const events = el('section', { class: 'events', 'aria-label': 'Event history' });
  const trace = traceView(operationId);
  const definition = el('details', { class: 'definition' });
  main.replaceChildren(
    el(
      'nav',
      { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      el('a', { href: '#/' }, 'Executions'),
      ' › ',
      el('span', { class: 'mono' }, operationId),
    ),
    header,
    el(
      'div',
      { class: 'execution-body' },
      el(
        'section',
        { class: 'graph-panel', 'aria-label': 'State machine graph' },
        el('div', { class: 'graph-tools' }, legend(), sizeToggle(graphBox)),
        graphBox,
      ),
      details,
    ),
    trace.element,
    events,
    definition,
  );

  const select = (id) => {
    selected = id;
    graph?.select(id);
    renderDetails(details, execution, id);
  };

  const refresh = async () => {
    const answer = await getJson(`/_local/api/executions/${encodeURIComponent(operationId)}`, etag);
    if (!answer.changed) return;
    etag = answer.etag;
    execution = answer.body;
    const focused = document.activeElement?.closest?.('.node')?.dataset.state;
    renderHeader(header, execution);
    graph = drawGraph(graphBox, execution.graph, select);
    if (!selected) selected = defaultSelection(execution);
    select(selected);
    if (focused) graph.focus(focused);
    renderEvents(events, execution.events);
    renderDefinition(definition, execution.definition);
  };

  let failed = null;
  const poller = every(1, async () => {
    try {
      await refresh();
      failed = null;
    } catch (error) {
      if (failed !== error.message) {
        failed = error.message;
        header.replaceChildren(el('p', { class: 'problem', role: 'alert' }, error.message));
      }
      if (error.status === 404) poller?.stop();
    }
  }, () => !execution || execution.status === 'RUNNING');
  // The trace fills in as segments arrive (each function's as it ends): polled until the
  // operation's trace is whole, and a few times more after the execution ended.
  let settled = false;
  let afterEnd = 0;
  const tracePoller = every(1, async () => {
    const model = await trace.refresh();
    const running = !execution || execution.status === 'RUNNING';
    if (!running) afterEnd += 1;
    const whole = model?.traces.some((t) => t.operation && !t.inProgress);
    settled = !running && (whole || afterEnd > 10);
  }, () => !settled);
  return () => {
    poller.stop();
    tracePoller.stop();
  };
}

// The state to show first: the one where it stopped or waits, else the first one.
function defaultSelection(execution) {
  const steps = execution.steps;
  const open = steps.findLast((s) => ['failed', 'running', 'waiting'].includes(s.status));
  if (open) return open.state;
  const caught = steps.find((s) => s.status === 'caught');
  if (caught) return caught.state;
  return steps.length ? steps[0].state : START;
}

function renderHeader(header, execution) {
  const outcome = el('span', { id: 'operation-outcome' }, '…');
  const link = (href) => (href ? el('a', { href, class: 'mono' }, href) : 'none created');
  const facts = [
    ['Execution', statusBadge(execution.status), ''],
    ['Operation', outcome, 'wide'],
    ['Started', formatDateTime(execution.startDate), ''],
    ['Duration', formatDuration(execution.durationMs), ''],
    ['Email', execution.email || '—', ''],
    ['Operation resource', link(execution.links.operation), ''],
    ['User resource', link(execution.links.user), ''],
  ];
  if (execution.review) facts.push(['Review', reviewSummary(execution.review), 'wide']);
  if (execution.error) {
    facts.push(['Error', el('span', { class: 'mono' }, execution.error), '']);
    if (execution.cause) facts.push(['Cause', execution.cause, 'wide']);
  }
  header.replaceChildren(
    el('h1', {}, 'Execution ', el('span', { class: 'mono' }, execution.operationId)),
    el(
      'dl',
      { class: 'summary' },
      facts.map(([term, value, width]) =>
        el('div', { class: `fact ${width}` }, el('dt', {}, term), el('dd', {}, value)),
      ),
    ),
  );
  showOperation(outcome, execution.links.operation);
}

// The operation's review: waiting until when, or what was decided, by whom, when.
function reviewSummary(review) {
  const text =
    review.status === 'DECIDED'
      ? `${review.decision === 'approve' ? '✓ approved' : '✗ rejected'} by ${review.decidedBy || 'a reviewer (no sign-in on this stage)'} at ${formatDateTime(review.decidedAt)}${review.reason ? ` — ${review.reason}` : ''}`
      : review.status === 'EXPIRED'
        ? `expired at ${formatDateTime(review.expiresAt)}, undecided`
        : `waiting for a reviewer until ${formatDateTime(review.expiresAt)}`;
  return el('span', { id: 'review-summary' }, text);
}

// The operation as the API serves it (GET /operations/{id}): a refused user is a FAILED
// operation although its execution succeeded (the workflow did its job).
async function showOperation(box, url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  const operation = await response.json().catch(() => ({}));
  if (!response.ok) {
    box.textContent = `${response.status} ${operation.detail || ''}`;
    return;
  }
  box.replaceChildren(
    el('strong', {}, operation.status),
    ...(operation.step ? [' · ', el('span', { class: 'mono' }, operation.step)] : []),
    ...(operation.error
      ? [' · ', el('span', { class: 'mono' }, operation.error.code), ` — ${operation.error.message}`]
      : []),
  );
}

// The graph fits the panel's width; this shows it at its own size instead (scrolling).
function sizeToggle(graphBox) {
  const button = el('button', { type: 'button', 'aria-pressed': 'false' }, 'Actual size');
  button.addEventListener('click', () => {
    const actual = graphBox.classList.toggle('actual-size');
    button.setAttribute('aria-pressed', String(actual));
  });
  return button;
}

function legend() {
  const item = (status) => {
    const known = STATE_STATUS[status];
    return el(
      'li',
      {},
      el('span', { class: `swatch status-${status}`, 'aria-hidden': 'true' }),
      `${known.glyph} ${known.text}`,
    );
  };
  return el(
    'ul',
    { class: 'legend', 'aria-label': 'Legend' },
    ['succeeded', 'retried', 'caught', 'failed', 'running', 'waiting', 'not-reached'].map(item),
    el('li', {}, el('span', { class: 'line taken', 'aria-hidden': 'true' }), 'path taken'),
    el('li', {}, el('span', { class: 'line catch', 'aria-hidden': 'true' }), 'catch (dashed)'),
  );
}

function renderDetails(box, execution, id) {
  if (id === START || id === END) {
    const before = id === START;
    box.replaceChildren(
      el('h2', {}, before ? 'Start' : 'End'),
      el(
        'p',
        { class: 'muted' },
        before
          ? 'The execution’s input, and what the API and the starter logged for this operation before the first state.'
          : 'The execution’s output, and what was logged for this operation after the last state.',
      ),
      section(before ? 'Input' : 'Output', jsonBlock(before ? execution.input : execution.output)),
      section('Log lines', logList(before ? execution.logs.before : execution.logs.after)),
    );
    return;
  }
  const visits = execution.steps.filter((s) => s.state === id);
  const node = execution.graph.nodes.find((n) => n.id === id);
  const parts = [
    el('h2', {}, id),
    el(
      'p',
      { class: `state-status status-${node.status}` },
      statusLine(node),
      el('span', { class: 'muted' }, ` — ${node.type}`),
    ),
  ];
  if (node.resource) {
    parts.push(
      el(
        'p',
        {},
        'Integration ',
        el('span', { class: 'mono' }, node.resource),
        node.function ? [' · function ', el('span', { class: 'mono' }, node.function)] : null,
      ),
    );
  }
  if (node.comment) parts.push(el('p', { class: 'muted' }, node.comment));
  if (!visits.length) {
    parts.push(el('p', {}, 'This execution did not reach this state.'));
  }
  visits.forEach((step, index) => {
    const title = visits.length > 1 ? `Visit ${index + 1}` : null;
    const known = STATE_STATUS[step.status];
    parts.push(
      el(
        'div',
        { class: 'visit' },
        title ? el('h3', {}, title) : null,
        el(
          'dl',
          { class: 'facts' },
          el('dt', {}, 'Status'),
          el('dd', {}, `${known.glyph} ${known.text}`),
          el('dt', {}, 'Entered'),
          el('dd', {}, formatTime(step.entered)),
          el('dt', {}, 'Duration'),
          el('dd', {}, formatDuration(step.durationMs)),
          el('dt', {}, 'Attempts'),
          el('dd', {}, String(step.attempts), step.retries ? ` (${step.retries} retried)` : ''),
        ),
        step.errors.length
          ? section(
              `Errors (${step.errors.length})`,
              el(
                'ul',
                { class: 'errors' },
                step.errors.map((e) =>
                  el('li', {}, el('strong', { class: 'mono' }, e.error || 'error'), ' ', el('pre', {}, prettyJson(e.cause))),
                ),
              ),
            )
          : null,
        section('Log lines', logList(step.logs)),
        section('Input', jsonBlock(step.input)),
        section('Output', jsonBlock(step.output)),
        section('Assigned variables', variablesBlock(step)),
      ),
    );
  });
  box.replaceChildren(...parts);
}

function section(title, content) {
  return el('div', { class: 'block' }, el('h3', {}, title), content);
}

function jsonBlock(text) {
  if (text === null || text === undefined) return el('p', { class: 'muted' }, 'none');
  return el('pre', { class: 'json' }, prettyJson(text));
}

// The variables a visit assigned (its state-exit event's assignedVariables: each value JSON
// text), as `$name` and the value; nothing yet while the state runs.
function variablesBlock(step) {
  const variables = step.variables;
  if (!variables) return el('p', { class: 'muted' }, 'not yet: the state has not exited');
  const names = Object.keys(variables);
  if (!names.length) return el('p', { class: 'muted' }, 'none');
  return [
    el(
      'dl',
      { class: 'variables' },
      names.map((name) => [
        el('dt', { class: 'mono' }, `$${name}`),
        el('dd', {}, el('pre', { class: 'json' }, prettyJson(variables[name]))),
      ]),
    ),
    step.variablesTruncated ? el('p', { class: 'muted' }, 'truncated by Step Functions') : null,
  ];
}

const STANDARD_FIELDS = new Set(['timestamp', 'level', 'logger', 'message', 'correlation_id']);

function logList(lines) {
  if (!lines.length) return el('p', { class: 'muted' }, 'No log lines.');
  return el(
    'ol',
    { class: 'logs' },
    lines.map((entry) => {
      let parsed = {};
      try {
        parsed = JSON.parse(entry.line);
      } catch {
        parsed = { message: entry.line };
      }
      const extras = Object.entries(parsed)
        .filter(([key]) => !STANDARD_FIELDS.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
      return el(
        'li',
        { class: `log level-${entry.level.toLowerCase()}` },
        el('span', { class: 'log-time mono' }, parsed.timestamp ? formatTime(parsed.timestamp) : ''),
        el('span', { class: 'log-level' }, entry.level),
        el('span', { class: 'log-logger mono' }, entry.function ? `${entry.function} · ${entry.logger}` : entry.logger),
        el('span', { class: 'log-message' }, parsed.message ?? ''),
        extras.length ? el('span', { class: 'log-extra mono' }, extras.join('  ')) : null,
        el('details', { class: 'log-raw' }, el('summary', {}, 'JSON'), el('pre', {}, entry.line)),
      );
    }),
  );
}

function renderEvents(box, events) {
  const summary = (event) => {
    const d = event.details || {};
    if (d.error) return `${d.error}${d.cause ? `: ${String(d.cause).slice(0, 160)}` : ''}`;
    if (d.resourceType) return `${d.resourceType}:${d.resource}`;
    return '';
  };
  box.replaceChildren(
    el('h2', {}, `Event history (${events.length})`),
    el(
      'div',
      { class: 'table-scroll' },
      el(
        'table',
        { class: 'events-table' },
        el(
          'thead',
          {},
          el('tr', {}, ['#', 'Type', 'State', 'Since start', 'Time', 'Details'].map((h) => el('th', { scope: 'col' }, h))),
        ),
        el(
          'tbody',
          {},
          events.map((event) =>
            el(
              'tr',
              { class: /Failed|TimedOut|Aborted/.test(event.type) ? 'event-error' : null },
              el('td', { class: 'num' }, String(event.id)),
              el('td', { class: 'mono' }, event.type),
              el('td', {}, event.state || ''),
              el('td', { class: 'num' }, formatDuration(event.sinceStartMs)),
              el('td', { class: 'mono' }, formatTime(event.timestamp)),
              el(
                'td',
                {},
                summary(event),
                Object.keys(event.details || {}).length
                  ? el('details', {}, el('summary', {}, 'details'), el('pre', { class: 'json' }, JSON.stringify(event.details, null, 2)))
                  : null,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function renderDefinition(box, definition) {
  const open = box.open;
  box.replaceChildren(
    el('summary', {}, 'Definition (as Step Functions runs it, substitutions applied)'),
    el('pre', { class: 'json' }, prettyJson(definition)),
  );
  box.open = open;
}
