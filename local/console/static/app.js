// The local console: a hash-routed page over /_local/api/* (and the API's own resources).

import { executionView } from './execution.js';
import { metricsView } from './metrics.js';
import {
  EXECUTION_STATUS,
  el,
  every,
  formatDateTime,
  formatDuration,
  formatTime,
  getJson,
  outcomeBadge,
  statusBadge,
} from './util.js';

const main = document.getElementById('main');
let leave = () => {};

const routes = [
  [/^#?\/?$/, () => executionsView(main)],
  [/^#\/executions\/([^/]+)$/, (id) => executionView(main, decodeURIComponent(id))],
  [/^#\/system$/, () => systemView(main)],
  [/^#\/metrics$/, () => metricsView(main)],
  [/^#\/reviews$/, () => reviewsView(main)],
];

function route() {
  leave();
  const hash = window.location.hash;
  for (const [pattern, view] of routes) {
    const matched = hash.match(pattern);
    if (matched) {
      markCurrentTab(hash);
      leave = view(...matched.slice(1)) || (() => {});
      main.focus({ preventScroll: true });
      return;
    }
  }
  main.replaceChildren(el('p', { class: 'problem', role: 'alert' }, `Nothing at ${hash}.`), el('a', { href: '#/' }, 'Executions'));
  leave = () => {};
}

function markCurrentTab(hash) {
  const section = ['system', 'metrics', 'reviews'].find((s) => hash.startsWith(`#/${s}`)) || 'executions';
  for (const tab of document.querySelectorAll('[data-tab]')) {
    if (tab.dataset.tab === section) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
}

// ---- Executions -------------------------------------------------------------------------

function executionsView(container) {
  const params = new URLSearchParams(sessionStorage.getItem('executions-filter') || '');
  const status = el(
    'select',
    { id: 'status-filter', name: 'status' },
    el('option', { value: '' }, 'All statuses'),
    Object.entries(EXECUTION_STATUS).map(([value, known]) => el('option', { value }, known.text)),
  );
  status.value = params.get('status') || '';
  const search = el('input', {
    id: 'search',
    type: 'search',
    name: 'q',
    placeholder: 'operation id or email',
    autocomplete: 'off',
    value: params.get('q') || '',
  });
  const live = el('input', { id: 'live', type: 'checkbox', checked: true });
  const updated = el('span', { class: 'muted', id: 'updated', 'aria-live': 'off' });
  const counts = el('p', { class: 'counts', id: 'counts' });
  const body = el('tbody', { id: 'executions' });
  const footer = el('p', { class: 'muted', id: 'shown' });
  container.replaceChildren(
    el('h1', {}, 'Executions'),
    el(
      'form',
      { class: 'toolbar', role: 'search', onsubmit: (e) => e.preventDefault() },
      el('label', { for: 'status-filter' }, 'Status '),
      status,
      el('label', { for: 'search' }, 'Search '),
      search,
      el('label', { class: 'live' }, live, ' live'),
      updated,
    ),
    counts,
    el(
      'div',
      { class: 'table-scroll' },
      el(
        'table',
        { class: 'executions-table' },
        el(
          'thead',
          {},
          el('tr', {}, ['Outcome', 'Execution', 'Operation', 'Email', 'Started', 'Duration'].map((h) => el('th', { scope: 'col' }, h))),
        ),
        body,
      ),
    ),
    footer,
  );

  let etag = null;
  const query = () => {
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (search.value.trim()) q.set('q', search.value.trim());
    return q.toString();
  };
  const refresh = async () => {
    const answer = await getJson(`/_local/api/executions?${query()}`, etag);
    updated.textContent = `updated ${formatTime(new Date().toISOString())}`;
    if (!answer.changed) return;
    etag = answer.etag;
    renderExecutions(body, counts, footer, answer.body);
  };
  const poller = every(2, refresh, () => live.checked);
  let typing = null;
  const refilter = () => {
    sessionStorage.setItem('executions-filter', query());
    etag = null;
    clearTimeout(typing);
    typing = setTimeout(() => refresh().catch((e) => console.warn(e.message)), 150);
  };
  status.addEventListener('change', refilter);
  search.addEventListener('input', refilter);
  return () => poller.stop();
}

function renderExecutions(body, counts, footer, listing) {
  counts.replaceChildren(
    `${listing.total} executions`,
    ...Object.entries(listing.counts).flatMap(([name, n]) => [' · ', statusBadge(name), ` ${n}`]),
  );
  // A keyboard user's place survives the refresh: the same row's link keeps the focus.
  const focused = document.activeElement?.closest?.('#executions tr')?.dataset.operation;
  if (!listing.executions.length) {
    body.replaceChildren(
      el('tr', {}, el('td', { colspan: 6, class: 'empty' }, listing.total ? 'No execution matches.' : 'No executions yet: create a user (POST /users).')),
    );
  } else {
    body.replaceChildren(
      ...listing.executions.map((e) =>
        el(
          'tr',
          { 'data-operation': e.operationId, 'data-status': e.status, 'data-outcome': e.outcome?.code || e.outcome?.status || '' },
          el('td', {}, outcomeBadge(e.outcome)),
          el('td', {}, statusBadge(e.status)),
          el('td', {}, el('a', { href: `#/executions/${encodeURIComponent(e.operationId)}`, class: 'mono' }, e.operationId)),
          el('td', {}, e.email || '—'),
          el('td', { class: 'mono' }, formatDateTime(e.startDate)),
          el('td', { class: 'num' }, formatDuration(e.durationMs)),
        ),
      ),
    );
  }
  if (focused) body.querySelector(`tr[data-operation="${CSS.escape(focused)}"] a`)?.focus();
  footer.textContent =
    listing.matched > listing.executions.length
      ? `Showing the newest ${listing.executions.length} of ${listing.matched} matching.`
      : `${listing.matched} shown.`;
}

// ---- System -----------------------------------------------------------------------------

function systemView(container) {
  const stream = el('section', { class: 'card', id: 'stream', 'aria-label': 'Stream' });
  const queue = el('section', { class: 'card', id: 'queue', 'aria-label': 'On-failure queue' });
  const tables = el('section', { class: 'card', id: 'tables', 'aria-label': 'Tables' });
  const updated = el('span', { class: 'muted updated' });
  container.replaceChildren(el('h1', {}, 'System ', updated), el('div', { class: 'cards' }, stream, tables), queue);
  let etag = null;
  const poller = every(3, async () => {
    const answer = await getJson('/_local/api/system', etag);
    updated.textContent = `updated ${formatTime(new Date().toISOString())}`;
    if (!answer.changed) return;
    etag = answer.etag;
    renderStream(stream, answer.body.stream);
    renderQueue(queue, answer.body.queue);
    renderTables(tables, answer.body.tables);
  });
  return () => poller.stop();
}

function renderStream(box, stream) {
  box.replaceChildren(
    el('h2', {}, 'Stream ', el('span', { class: 'mono' }, stream.name)),
    el('p', { class: 'muted' }, `${stream.status} · ${stream.mode || ''} · retention ${stream.retentionHours} h`),
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ['Shard', 'Records', 'Tip', 'Starter checkpoint', 'Starter behind', 'Starter batches'].map((h) => el('th', { scope: 'col' }, h)))),
      el(
        'tbody',
        {},
        stream.shards.map((shard) => {
          const behind = shard.starter.behind;
          const stats = shard.starter.stats || {};
          return el(
            'tr',
            { 'data-shard': shard.shardId },
            el('td', { class: 'mono' }, shard.shardId),
            el('td', { class: 'num' }, String(shard.records)),
            el('td', { class: 'mono' }, shard.tip || '—'),
            el('td', { class: 'mono' }, shard.starter.checkpoint || '—'),
            el(
              'td',
              { class: behind.records ? 'lagging' : null },
              `${behind.exact ? '' : '≥ '}${behind.records} records`,
              behind.records ? ` · oldest waiting ${formatDuration(behind.oldestWaitingMs)}` : ' · up to date',
            ),
            el(
              'td',
              { class: 'muted' },
              `${stats.invocations ?? 0} invocations, ${stats.batches_failed ?? 0} failed, ${stats.batches_sent_to_failure_queue ?? 0} to the queue`,
            ),
          );
        }),
      ),
    ),
  );
}

function renderQueue(box, queue) {
  const parts = [
    el('h2', {}, 'On-failure queue ', el('span', { class: 'mono' }, queue.arn.split(':').at(-1))),
    el(
      'p',
      {},
      `${queue.visible} messages visible, ${queue.inFlight} in flight. `,
      el('span', { class: 'muted' }, 'Peeked at (receive with a zero visibility timeout): they stay in the queue, their receive count goes up.'),
    ),
  ];
  if (!queue.messages.length) parts.push(el('p', { class: 'muted' }, 'Empty: every record reached the starter.'));
  for (const message of queue.messages) {
    const batch = message.body?.KinesisBatchInfo;
    parts.push(
      el(
        'article',
        { class: 'message', 'data-message': message.messageId },
        el('h3', { class: 'mono' }, message.messageId),
        el(
          'p',
          {},
          `sent ${formatDateTime(message.sentAt)} · received ${message.receiveCount}×`,
          batch ? ` · ${batch.batchSize} records of ${batch.shardId}, ${batch.startSequenceNumber}–${batch.endSequenceNumber} · ${message.body.requestContext?.condition || ''}` : '',
        ),
        message.records.length
          ? el(
              'table',
              {},
              el('thead', {}, el('tr', {}, ['Sequence', 'Partition key', 'Arrived', 'Operation', 'Data'].map((h) => el('th', { scope: 'col' }, h)))),
              el(
                'tbody',
                {},
                message.records.map((r) =>
                  el(
                    'tr',
                    {},
                    el('td', { class: 'mono' }, r.sequenceNumber),
                    el('td', { class: 'mono' }, r.partitionKey),
                    el('td', { class: 'mono' }, formatDateTime(r.arrivedAt)),
                    el('td', {}, r.operationId ? el('a', { href: `#/executions/${encodeURIComponent(r.operationId)}`, class: 'mono' }, r.operationId) : '—'),
                    el('td', {}, el('code', { class: 'data' }, r.data)),
                  ),
                ),
              ),
            )
          : el('p', { class: 'muted' }, 'The records it points to are no longer on the stream.'),
      ),
    );
  }
  box.replaceChildren(...parts);
}

function renderTables(box, tables) {
  box.replaceChildren(
    el('h2', {}, 'Tables'),
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ['Table', 'Items', 'Status'].map((h) => el('th', { scope: 'col' }, h)))),
      el(
        'tbody',
        {},
        tables.map((t) =>
          el('tr', { 'data-table': t.name }, el('td', { class: 'mono' }, t.name), el('td', { class: 'num' }, String(t.items)), el('td', {}, t.status)),
        ),
      ),
    ),
    el('p', { class: 'muted' }, 'Item counts from DescribeTable: live in the emulator; AWS refreshes them about every six hours.'),
  );
}

// ---- Reviews (shown once the API has GET /reviews) ----------------------------------------
// Reviewers decide on the reviewer page (/review/), signed in as on AWS; the console shows
// what the review topic told them, as the email a team subscribes would.

let reviewerPage = null;

function reviewsView(container) {
  const list = el('div', { id: 'notifications' });
  container.replaceChildren(
    el('h1', {}, 'Reviews'),
    el(
      'p',
      {},
      'Pending reviews are decided on the ',
      el('a', { href: reviewerPage || '/review/', id: 'reviewer-page' }, 'reviewer page'),
      ', signed in as a reviewer (the local stack\u2019s is ',
      el('code', {}, 'reviewer'),
      ', with the password `make run` printed).',
    ),
    el('h2', {}, 'Notifications sent'),
    el('p', { class: 'muted' }, 'What the review topic sent: on AWS, to the address a stage subscribes; here, to a queue this page reads.'),
    list,
  );
  const poller = every(3, async () => {
    const { body } = await getJson('/_local/api/notifications');
    renderNotifications(list, body.messages);
  });
  return () => poller.stop();
}

function renderNotifications(list, messages) {
  if (!messages.length) {
    list.replaceChildren(el('p', { class: 'muted' }, 'No review has been requested yet.'));
    return;
  }
  list.replaceChildren(
    ...messages.map((message) =>
      el(
        'article',
        { class: 'message notification', 'data-message': message.messageId },
        el('h3', {}, `${formatDateTime(message.sentAt)} · ${message.subject || '(no subject)'}`),
        el('pre', {}, message.message),
      ),
    ),
  );
}

// ---- Start ------------------------------------------------------------------------------

async function start() {
  const about = await getJson('/_local/api/about').catch(() => null);
  if (about?.body) {
    document.getElementById('stage').textContent = `stage ${about.body.stage}`;
    if (about.body.reviews) document.getElementById('reviews-tab').hidden = false;
    reviewerPage = about.body.reviewerPage;
  }
  window.addEventListener('hashchange', route);
  route();
}

start();
