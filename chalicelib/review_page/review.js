// The reviewer page: sign in with Cognito (from the browser, with the user pool's public API),
// list the pending reviews oldest first, approve or reject each, sign out.
//
// Every address is relative to the page (its <base href>): the API is one level up, so the
// page works behind API Gateway's stage (/api/review/) as locally (/review/). The ID token is
// kept in this tab's sessionStorage, sent only as the Authorization header of the API's
// reviewers' routes, and never put in an address or a log.

const TOKEN_KEY = 'reviewer-id-token';
const PAGE_SIZE = 10;
const main = document.getElementById('main');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
let settings = null;

// ---- Small helpers ------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function apiUrl(path) {
  return new URL(`../${path}`, document.baseURI).toString();
}

function formatDateTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { hour12: false }) : '—';
}

function show(...children) {
  main.replaceChildren(...children);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function problemText(status, problem) {
  return `${status} · ${problem.title || 'Error'}${problem.detail ? `: ${problem.detail}` : ''}`;
}

// ---- The signed-in reviewer ---------------------------------------------------------------

function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

function currentToken() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const claims = token && claimsOf(token);
  if (!claims || typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return token;
}

// The Authorization header the reviewers' routes take on this stage; null once the sign-in
// has expired.
function authorization() {
  if (settings.auth !== 'cognito') return {};
  const token = currentToken();
  return token ? { Authorization: token } : null;
}

function signedIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  const name = claimsOf(token)['cognito:username'] || '';
  who.textContent = `Signed in as ${name}`;
  signOutButton.hidden = false;
  reviewsView();
}

function signOut(message = null) {
  sessionStorage.removeItem(TOKEN_KEY);
  who.textContent = '';
  signOutButton.hidden = true;
  signInView(message);
}

signOutButton.addEventListener('click', () => signOut('Signed out.'));

// ---- Cognito's public API (InitiateAuth, RespondToAuthChallenge) --------------------------

async function cognito(action, body) {
  const response = await fetch(`${settings.cognitoEndpoint}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${action}`,
    },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(answer.message || answer.__type || `Cognito answered ${response.status}`);
  }
  return answer;
}

async function signIn(username, password) {
  return cognito('InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: settings.clientId,
    AuthParameters: { USERNAME: username, PASSWORD: password },
  });
}

async function setNewPassword(username, password, session) {
  return cognito('RespondToAuthChallenge', {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    ClientId: settings.clientId,
    Session: session,
    ChallengeResponses: { USERNAME: username, NEW_PASSWORD: password },
  });
}

// What Cognito answered: signed in, a new password to choose, or a challenge this page does not
// take (MFA is optional on the pool: a reviewer who turned it on signs in elsewhere).
function afterCognito(answer, username) {
  if (answer.AuthenticationResult?.IdToken) {
    signedIn(answer.AuthenticationResult.IdToken);
  } else if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    newPasswordView(username, answer.Session);
  } else {
    signInView(`Cognito asks for ${answer.ChallengeName}, which this page does not support.`);
  }
}

// ---- Views --------------------------------------------------------------------------------

function messageBox(message, kind = 'problem') {
  return message ? el('p', { class: kind, role: kind === 'problem' ? 'alert' : 'status' }, message) : null;
}

// A form that asks Cognito: labelled fields, a submit button, a status line for what went
// wrong. `send(fail)` asks and hands the answer on (fail(message, field) refuses first);
// what Cognito refuses is shown, and `retry` (the field to type again) is emptied and focused.
function cognitoForm({ id, fields, submitLabel, intro = null, send, retry }) {
  const submit = el('button', { type: 'submit', class: 'primary' }, submitLabel);
  const status = el('p', { id: `${id}-status`, role: 'alert', class: 'problem', hidden: true });
  const fail = (message, field) => {
    status.textContent = message;
    status.hidden = false;
    field.focus();
  };
  const form = el(
    'form',
    { class: 'sign-in', 'aria-labelledby': `${id}-title` },
    intro,
    fields.map(([label, input]) => el('label', { for: input.id }, label, input)),
    submit,
    status,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.hidden = true;
    submit.disabled = true;
    try {
      await send(fail);
    } catch (error) {
      retry.value = '';
      fail(error.message, retry);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function signInView(message = null) {
  const username = el('input', { id: 'username', name: 'username', autocomplete: 'username', required: true });
  const password = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = cognitoForm({
    id: 'sign-in',
    fields: [
      ['User name', username],
      ['Password', password],
    ],
    submitLabel: 'Sign in',
    retry: password,
    send: async () => {
      const name = username.value.trim();
      afterCognito(await signIn(name, password.value), name);
    },
  });
  show(el('h1', { id: 'sign-in-title' }, 'Sign in to review'), messageBox(message, message === 'Signed out.' ? 'notice' : 'problem'), form);
  username.focus();
}

function newPasswordView(username, session) {
  const password = el('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true });
  const again = el('input', { id: 'new-password-again', type: 'password', autocomplete: 'new-password', required: true });
  const form = cognitoForm({
    id: 'new-password',
    fields: [
      ['New password', password],
      ['New password again', again],
    ],
    submitLabel: 'Set password and sign in',
    intro: el('p', { class: 'muted' }, 'This is your first sign-in: choose your own password (at least 14 characters, with upper and lower case letters, a digit and a symbol).'),
    retry: again,
    send: async (fail) => {
      if (password.value !== again.value) {
        fail('The two passwords differ.', again);
        return;
      }
      afterCognito(await setNewPassword(username, password.value, session), username);
    },
  });
  show(el('h1', { id: 'new-password-title' }, 'Choose a password'), form);
  password.focus();
}

// Pages of pending reviews, oldest first: `pages` holds the nextToken that opens each page
// seen so far (null for the first).
function reviewsView() {
  const pages = [null];
  let current = 0;
  const summary = el('p', { class: 'muted', id: 'summary', 'aria-live': 'polite' });
  const list = el('div', { id: 'reviews' });
  const previous = el('button', { type: 'button', id: 'previous-page', disabled: true }, '← Previous page');
  const next = el('button', { type: 'button', id: 'next-page', disabled: true }, 'Next page →');
  const refresh = el('button', { type: 'button', id: 'refresh' }, 'Refresh');

  async function load() {
    const credentials = authorization();
    if (!credentials) {
      signOut('Your sign-in has expired: sign in again.');
      return;
    }
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (pages[current]) query.set('nextToken', pages[current]);
    const response = await fetch(apiUrl(`reviews?${query}`), {
      headers: { Accept: 'application/json', ...credentials },
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signOut('Your sign-in is no longer accepted: sign in again.');
      return;
    }
    if (!response.ok) {
      list.replaceChildren(messageBox(problemText(response.status, body)));
      return;
    }
    if (body.nextToken) pages[current + 1] = body.nextToken;
    else pages.length = current + 1;
    previous.disabled = current === 0;
    next.disabled = !body.nextToken;
    summary.textContent = `Page ${current + 1}, oldest first: ${body.reviews.length} pending here${body.nextToken ? ', more on the next page' : ''}.`;
    renderReviews(list, body.reviews);
  }

  previous.addEventListener('click', () => {
    current = Math.max(0, current - 1);
    load();
  });
  next.addEventListener('click', () => {
    current += 1;
    load();
  });
  refresh.addEventListener('click', () => load());
  show(el('h1', {}, 'Pending reviews'), el('div', { class: 'toolbar' }, refresh, previous, next), summary, list);
  load();
}

function renderReviews(list, reviews) {
  if (!reviews.length) {
    list.replaceChildren(el('p', { class: 'muted', id: 'no-reviews' }, 'No review is waiting.'));
    return;
  }
  list.replaceChildren(
    el(
      'table',
      {},
      el('caption', { class: 'visually-hidden' }, 'Pending reviews, oldest first'),
      el('thead', {}, el('tr', {}, ['Operation', 'Name', 'Email', 'Requested', 'Decide before', 'Decision'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, reviews.map(reviewRow)),
    ),
  );
}

function reviewRow(review) {
  const id = review.operationId;
  const reasonId = `reason-${id}`;
  const reason = el('input', { type: 'text', id: reasonId, maxlength: 500, placeholder: 'reason (required to reject)' });
  const outcome = el('span', { class: 'outcome', role: 'status' });
  const approve = el('button', { type: 'button', class: 'approve' }, '✓ Approve');
  const reject = el('button', { type: 'button', class: 'reject' }, '✗ Reject');
  const cell = el(
    'td',
    { class: 'decision' },
    el('label', { for: reasonId, class: 'visually-hidden' }, `Reason for ${review.name}`),
    reason,
    approve,
    reject,
    outcome,
  );

  async function decide(decision) {
    const why = reason.value.trim();
    if (decision === 'reject' && !why) {
      outcome.textContent = 'Give a reason to reject.';
      reason.focus();
      return;
    }
    const credentials = authorization();
    if (!credentials) {
      signOut('Your sign-in has expired: sign in again.');
      return;
    }
    approve.disabled = reject.disabled = true;
    const response = await fetch(apiUrl(`reviews/${encodeURIComponent(id)}`), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...credentials },
      body: JSON.stringify(why ? { decision, reason: why } : { decision }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signOut('Your sign-in is no longer accepted: sign in again.');
      return;
    }
    if (!response.ok) {
      outcome.textContent = problemText(response.status, body);
      outcome.className = 'outcome problem';
      // A decision taken elsewhere (409) or a review gone (404) stays so; anything else may pass.
      if (response.status !== 409 && response.status !== 404) approve.disabled = reject.disabled = false;
      return;
    }
    reason.disabled = true;
    const approved = body.decision === 'approve';
    outcome.className = `outcome decided ${approved ? 'approved' : 'rejected'}`;
    outcome.textContent = `${approved ? '✓ Approved' : '✗ Rejected'} by ${body.decidedBy || 'a reviewer'} at ${formatDateTime(body.decidedAt)}${body.reason ? ` — ${body.reason}` : ''}`;
  }

  approve.addEventListener('click', () => decide('approve'));
  reject.addEventListener('click', () => decide('reject'));
  return el(
    'tr',
    { 'data-operation': id },
    el('td', { class: 'mono' }, id),
    el('td', {}, review.name),
    el('td', {}, review.email),
    el('td', { class: 'mono' }, formatDateTime(review.requestedAt)),
    el('td', { class: 'mono' }, formatDateTime(review.expiresAt)),
    cell,
  );
}

// ---- Start --------------------------------------------------------------------------------

async function start() {
  const response = await fetch('settings.json', { headers: { Accept: 'application/json' } });
  settings = await response.json().catch(() => null);
  if (!response.ok || !settings) {
    show(el('h1', {}, 'Reviews'), messageBox(`The page's settings could not be read (${response.status}).`));
    return;
  }
  if (settings.auth === 'none') {
    who.textContent = 'This stage asks reviewers for no sign-in';
    reviewsView();
  } else if (settings.auth === 'cognito') {
    const token = currentToken();
    if (token) signedIn(token);
    else signInView();
  } else {
    show(
      el('h1', {}, 'Reviews'),
      messageBox('This stage takes reviewers\u2019 decisions as SigV4-signed requests only (REVIEW_AUTH=iam): deploy it with REVIEW_AUTH=cognito to review from this page.'),
    );
  }
}

start();
