// The deployflow dashboard: the job list and one job's page, over the JSON API.
// Everything the server sends is put into the page as text, never as HTML.
'use strict';

const LIST_PAGE = 25;
const LIST_REFRESH_MS = 4000;
const JOB_REFRESH_MS = 2000;
const MAX_LOG_LINES = 3000;
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const DEPLOY_CHAIN = [
  'Cloned', 'Analysed', 'DeploymentChosen', 'TerraformGenerated', 'Preflighted', 'Applied',
  'HealthChecked',
];
const OUTCOMES = [
  'succeeded', 'failed', 'timed_out', 'interrupted', 'released', 'cancelled', 'waiting', 'running',
];
// Outputs that a reader of a deployment wants to see without a click.
const OPEN_OUTPUTS = new Set(['preflight', 'apply', 'healthcheck']);

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'data') {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const byId = (id) => document.getElementById(id);

class ApiProblem extends Error {
  constructor(status, body) {
    const problem = body && typeof body === 'object' ? body : {};
    const title = problem.title || `HTTP ${status}`;
    const detail = problem.detail || (typeof body === 'string' ? body.slice(0, 300) : '');
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
  }
}

// The signed-in token's name and role, and the CSRF token its state-changing
// requests carry (the session itself is an HttpOnly cookie this script never sees).
const session = { name: null, role: null, csrf: null };

async function api(method, path, body) {
  let response;
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiProblem(0, { title: 'Server unreachable', detail: String(e.message || e) });
  }
  const text = await response.text();
  let answer = null;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    answer = text;
  }
  if (response.status === 401 && path !== '/session') showSignIn();
  if (!response.ok) throw new ApiProblem(response.status, answer);
  return answer;
}

// ---- sign-in ----

function showSignIn(message) {
  const box = byId('sign-in');
  box.hidden = false;
  byId('signed-in').hidden = true;
  const alert = byId('sign-in-alert');
  alert.textContent = message || '';
  alert.hidden = !message;
  byId('sign-in-token').focus();
}

function signedIn(view) {
  session.name = view.name;
  session.role = view.role;
  session.csrf = view.csrf_token;
  byId('sign-in').hidden = true;
  const who = byId('signed-in');
  who.hidden = false;
  byId('who').textContent = `${view.name} (${view.role})`;
}

async function signIn(event) {
  event.preventDefault();
  const input = byId('sign-in-token');
  try {
    signedIn(await api('POST', '/session', { token: input.value.trim() }));
    input.value = '';
    route();
    loadList(true);
  } catch (e) {
    showSignIn(e.message);
  }
}

async function signOut() {
  await api('DELETE', '/session').catch(() => {});
  session.csrf = null;
  showSignIn();
}

function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function formatAgo(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 5) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

const formatTime = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function jobDuration(job) {
  const start = Date.parse(job.started_at || job.created_at);
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return end - start;
}

const badge = (status) => el('span', { class: `badge status-${status}`, text: status });

function showAlert(box, error) {
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  box.append(el('strong', { text: error.title || 'Error' }));
  if (error.detail) box.append(' ', el('span', { text: error.detail }));
  box.hidden = false;
}

// ---- the job list ----

const list = { jobs: [], cursor: null, extraPages: false, filter: '', selected: null };

function listUrl(cursor) {
  const params = new URLSearchParams({ limit: String(LIST_PAGE) });
  if (list.filter) params.set('status', list.filter);
  if (cursor !== null && cursor !== undefined) params.set('cursor', String(cursor));
  return `/list?${params}`;
}

async function loadList(reset) {
  const filter = list.filter;
  try {
    const page = await api('GET', listUrl(null));
    if (filter !== list.filter) return;
    if (reset || !list.extraPages) {
      list.jobs = page.jobs;
      list.cursor = page.next_cursor;
      list.extraPages = false;
    } else {
      // Keep the older pages loaded with "load more"; the first page is the newest.
      const fresh = new Set(page.jobs.map((j) => j.id));
      list.jobs = page.jobs.concat(list.jobs.filter((j) => !fresh.has(j.id)));
    }
    showAlert(byId('list-alert'), null);
    byId('list-updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    showAlert(byId('list-alert'), e);
  }
  renderList();
}

async function loadMore() {
  if (list.cursor === null) return;
  const button = byId('load-more');
  button.disabled = true;
  try {
    const page = await api('GET', listUrl(list.cursor));
    const known = new Set(list.jobs.map((j) => j.id));
    list.jobs = list.jobs.concat(page.jobs.filter((j) => !known.has(j.id)));
    list.cursor = page.next_cursor;
    list.extraPages = true;
  } catch (e) {
    showAlert(byId('list-alert'), e);
  } finally {
    button.disabled = false;
  }
  renderList();
}

function renderList() {
  const items = list.jobs.map((job) => {
    const where = job.state || job.current_step || '–';
    return el('li', {},
      el('a', {
        class: `job-row${job.id === list.selected ? ' selected' : ''}`,
        href: `#/job/${job.id}`,
        data: { jobId: job.id, status: job.status },
        'aria-current': job.id === list.selected ? 'page' : null,
      },
      el('span', { class: 'row-main' },
        badge(job.status),
        el('span', { class: 'workflow', text: job.workflow }),
        el('code', { class: 'short-id', text: `…${job.id.slice(-8)}`, title: job.id })),
      el('span', { class: 'row-meta' },
        el('span', { class: 'state', title: 'current state', text: where }),
        el('time', { datetime: job.created_at, title: formatTime(job.created_at), text: formatAgo(job.created_at) }),
        el('span', { class: 'duration', title: 'duration', text: formatDuration(jobDuration(job)) }))));
  });
  byId('jobs').replaceChildren(...items);
  byId('list-empty').hidden = list.jobs.length > 0;
  byId('load-more').hidden = list.cursor === null || list.cursor === undefined;
}

// ---- one job ----

const view = {
  id: null, job: null, events: null, lastLogId: -1, outputs: new Map(), artifactsKey: '', timelineKey: '',
};

function openJob(id) {
  if (view.id === id) return;
  closeEvents();
  Object.assign(view, {
    id, job: null, lastLogId: -1, outputs: new Map(), artifactsKey: '', timelineKey: '',
  });
  list.selected = id;
  renderList();
  const article = byId('job');
  article.replaceChildren(
    el('div', { class: 'job-head', id: 'job-head' }, el('p', { class: 'muted', text: 'Loading…' })),
    el('div', { id: 'job-alert', class: 'alert', role: 'alert', hidden: true }),
    el('div', { id: 'job-actions', class: 'actions' }),
    el('dl', { id: 'job-facts', class: 'facts' }),
    section('Progress', el('ol', { id: 'job-chain', class: 'chain' })),
    section('Timeline', el('div', { id: 'job-timeline', class: 'timeline' }),
      el('ul', { id: 'job-taken', class: 'taken small' })),
    section('Log', el('div', { class: 'log-wrap' },
      el('p', { id: 'log-live', class: 'small muted' }),
      el('ol', { id: 'job-log', class: 'log' }))),
    section('Artifacts', el('ul', { id: 'job-artifacts', class: 'artifacts' })),
    section('Outputs', el('div', { id: 'job-outputs', class: 'outputs' })));
  article.dataset.jobId = id;
  article.hidden = false;
  byId('job-placeholder').hidden = true;
  document.body.classList.add('has-job');
  refreshJob().then(openEvents);
}

function closeJob() {
  closeEvents();
  view.id = null;
  list.selected = null;
  byId('job').hidden = true;
  byId('job-placeholder').hidden = false;
  document.body.classList.remove('has-job');
  renderList();
}

function section(title, ...body) {
  return el('section', { class: 'card' }, el('h2', { text: title }), ...body);
}

async function refreshJob() {
  const id = view.id;
  if (!id) return;
  try {
    const job = await api('GET', `/job/${id}`);
    if (view.id !== id) return;
    const previous = view.job;
    view.job = job;
    renderJob(job);
    if (!previous || previous.status !== job.status || previous.state !== job.state) {
      loadArtifacts(id);
      if (previous) loadList(false);
      // A job that left a terminal status (retried) streams again.
      if (previous && TERMINAL.has(previous.status) && !TERMINAL.has(job.status)) openEvents();
    }
  } catch (e) {
    if (view.id !== id) return;
    if (!view.job) byId('job-head').replaceChildren(el('h2', { text: 'Job not available' }));
    showAlert(byId('job-alert'), e);
  }
}

function renderJob(job) {
  const article = byId('job');
  article.dataset.status = job.status;
  byId('job-head').replaceChildren(
    el('h2', {}, el('span', { text: job.workflow }), ' ', badge(job.status)),
    el('a', { class: 'back', href: '#/', text: '← all jobs' }));
  renderFacts(job);
  renderActions(job);
  renderChain(job);
  renderTimeline(job);
  renderTaken(job);
  renderOutputs(job);
}

function renderFacts(job) {
  const facts = [
    ['Id', el('code', { text: job.id })],
    ['Workflow', job.workflow],
    ['Repository', job.repo ? repoLink(job.repo) : null],
    ['Description', job.description || null],
    ['Status', job.status],
    ['State', job.state || '–'],
    ['Current step', job.current_step || null],
    ['Created', formatTime(job.created_at)],
    ['Started', job.started_at ? formatTime(job.started_at) : null],
    ['Finished', job.finished_at ? formatTime(job.finished_at) : null],
    ['Duration', formatDuration(jobDuration(job))],
    ['Error', job.error ? el('span', { class: 'error-text', text: job.error }) : null],
    ['Error code', job.error_code ? el('code', { text: job.error_code }) : null],
    ['What to do', job.suggestion || null],
  ];
  const wide = new Set(['Id', 'Repository', 'Description', 'Error', 'What to do']);
  byId('job-facts').replaceChildren(...facts
    .filter(([, value]) => value !== null)
    .map(([key, value]) => el('div', { class: wide.has(key) ? 'fact wide' : 'fact' },
      el('dt', { text: key }), el('dd', {}, value))));
}

function repoLink(repo) {
  return /^https?:\/\//.test(repo)
    ? el('a', { href: repo, rel: 'noopener noreferrer', target: '_blank', text: repo })
    : el('span', { text: repo });
}

function renderActions(job) {
  const buttons = [];
  const add = (action, label, kind, confirmText) => buttons.push(el('button', {
    type: 'button', class: `button ${kind}`, data: { action }, text: label,
    onclick: (event) => act(event.currentTarget, action, confirmText),
  }));
  if (job.state === 'AwaitingApproval' && !TERMINAL.has(job.status)) {
    add('approve', 'Approve', 'primary');
    add('reject', 'Reject', 'danger', 'Reject this plan? The job ends without applying it.');
  }
  if (job.status === 'failed' || job.status === 'cancelled') add('retry', 'Retry', 'primary');
  if (!TERMINAL.has(job.status)) {
    add('cancel', 'Cancel', 'secondary', 'Cancel this job?');
  }
  if (job.workflow === 'deploy' && job.status === 'succeeded') {
    add('destroy', 'Destroy', 'danger', 'Destroy this deployment\'s infrastructure?');
  }
  byId('job-actions').replaceChildren(...buttons);
}

async function act(button, action, confirmText) {
  if (confirmText && !window.confirm(confirmText)) return;
  const id = view.id;
  button.disabled = true;
  try {
    const answer = await api('POST', `/job/${id}/${action}`);
    showAlert(byId('job-alert'), null);
    // An action that starts another job (a destroy run) takes the reader there.
    if (answer && answer.id && answer.id !== id) {
      location.hash = `#/job/${answer.id}`;
    } else {
      await refreshJob();
    }
    loadList(false);
  } catch (e) {
    showAlert(byId('job-alert'), e);
    // The refusal usually means the page was out of date (another client acted).
    refreshJob();
  } finally {
    button.disabled = false;
  }
}

// The deployment's states in order; other workflows show their own steps.
function renderChain(job) {
  let items;
  if (job.workflow === 'deploy') {
    const stepOf = new Map(job.steps.filter((s) => s.state).map((s) => [s.state, s]));
    items = DEPLOY_CHAIN.map((state) => {
      const step = stepOf.get(state);
      return { label: state, sub: step ? step.name : '', status: step ? step.status : 'pending' };
    });
    if (job.state && !DEPLOY_CHAIN.includes(job.state)) {
      const reached = items.filter((i) => i.status === 'completed').length;
      items.splice(reached, 0, { label: job.state, sub: 'state', status: 'current' });
    }
  } else {
    items = job.steps.map((s) => ({ label: s.name, sub: s.state || '', status: s.status }));
  }
  byId('job-chain').replaceChildren(...items.map((item) => el('li', {
    class: `chain-item chain-${item.status}`,
    data: { state: item.label, status: item.status },
    'aria-current': job.state === item.label ? 'step' : null,
  }, el('span', { class: 'chain-label', text: item.label }),
  el('span', { class: 'chain-sub', text: item.sub ? `${item.sub} · ${item.status}` : item.status }))));
}

// ---- the Gantt timeline ----

function timelineBars(job) {
  const bars = [];
  let lastEnd = job.started_at ? Date.parse(job.started_at) : Date.parse(job.created_at);
  for (const step of job.steps) {
    for (const a of step.attempts) {
      const start = Date.parse(a.started_at);
      const end = Date.parse(a.finished_at);
      lastEnd = Math.max(lastEnd, end);
      bars.push({ step: step.name, attempt: a.attempt, outcome: a.outcome, start, end, error: a.error, error_code: a.error_code, worker: a.worker });
    }
  }
  // The attempt in progress has no row yet: it started after the last one ended.
  if (job.status === 'running') {
    const step = job.steps.find((s) => s.status === 'running');
    if (step) {
      const attempt = step.attempts.reduce((n, a) => Math.max(n, a.attempt), 0) + 1;
      bars.push({ step: step.name, attempt, outcome: 'running', start: lastEnd, end: Math.max(Date.now(), lastEnd), error: null, worker: '' });
    }
  }
  return bars;
}

function renderTimeline(job) {
  const box = byId('job-timeline');
  const bars = timelineBars(job);
  // Redraw only on change (a running bar always changes), so a hovered bar keeps its tooltip.
  const key = JSON.stringify([job.steps.map((s) => s.name), bars]);
  if (key === view.timelineKey) return;
  view.timelineKey = key;
  hideTooltip();
  if (bars.length === 0) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No attempt has run yet.' }));
    return;
  }
  const t0 = Math.min(...bars.map((b) => b.start));
  const t1 = Math.max(...bars.map((b) => b.end),
    job.finished_at ? Date.parse(job.finished_at) : t0);
  const span = Math.max(t1 - t0, 1);
  const pct = (t) => `${((t - t0) / span) * 100}%`;

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const tick = el('span', { class: 'tick', text: formatDuration(span * f) });
    tick.style.left = `${f * 100}%`;
    return tick;
  });
  const rows = job.steps.map((step) => {
    const track = el('div', { class: 'tl-track' });
    for (const bar of bars.filter((b) => b.step === step.name)) {
      const text = barText(bar);
      const node = el('div', {
        class: `bar outcome-${bar.outcome}`,
        tabindex: '0',
        title: text,
        'aria-label': text,
        data: { step: bar.step, attempt: bar.attempt, outcome: bar.outcome, tip: text },
      });
      node.style.left = pct(bar.start);
      node.style.width = `${((bar.end - bar.start) / span) * 100}%`;
      track.append(node);
    }
    return el('div', { class: 'tl-row' },
      el('span', { class: 'tl-label', title: step.state || '', text: step.name }), track);
  });
  const legend = el('ul', { class: 'legend' }, ...OUTCOMES
    .filter((o) => bars.some((b) => b.outcome === o))
    .map((o) => el('li', {}, el('span', { class: `swatch outcome-${o}` }), o.replace('_', ' '))));
  box.replaceChildren(
    el('div', { class: 'tl-row tl-axis' }, el('span', { class: 'tl-label' }), el('div', { class: 'tl-track' }, ...ticks)),
    ...rows,
    legend);
}

// Who approved, rejected, cancelled, retried or destroyed the job, and when.
function renderTaken(job) {
  const list = byId('job-taken');
  const actions = job.actions || [];
  if (list.childElementCount === actions.length) return;
  list.replaceChildren(...actions.map((a) => el('li', {},
    el('time', { datetime: a.at, text: new Date(a.at).toLocaleString() }),
    ` ${a.action} by ${a.actor} (${a.role})`)));
}

function barText(bar) {
  const lines = [
    `${bar.step} · attempt ${bar.attempt} · ${bar.outcome.replace('_', ' ')}`,
    `${formatDuration(bar.end - bar.start)}${bar.outcome === 'running' ? ' so far' : ''}, started ${new Date(bar.start).toLocaleTimeString()}`,
  ];
  if (bar.worker) lines.push(`worker ${bar.worker}`);
  if (bar.error) lines.push(bar.error_code ? `${bar.error} [${bar.error_code}]` : bar.error);
  return lines.join('\n');
}

function showTooltip(target) {
  const tip = byId('tooltip');
  tip.textContent = target.dataset.tip;
  tip.hidden = false;
  const box = target.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.min(Math.max(8, box.left + box.width / 2 - width / 2), window.innerWidth - width - 8);
  let top = box.bottom + 6;
  if (top + tip.offsetHeight > window.innerHeight - 8) top = box.top - tip.offsetHeight - 6;
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${top + window.scrollY}px`;
}

function hideTooltip() {
  byId('tooltip').hidden = true;
}

function watchTooltips() {
  const enter = (event) => {
    const bar = event.target.closest && event.target.closest('.bar');
    if (bar) showTooltip(bar);
  };
  const leave = (event) => {
    if (event.target.closest && event.target.closest('.bar')) hideTooltip();
  };
  document.addEventListener('mouseover', enter);
  document.addEventListener('focusin', enter);
  document.addEventListener('mouseout', leave);
  document.addEventListener('focusout', leave);
}

// ---- live log ----

function openEvents() {
  closeEvents();
  const id = view.id;
  if (!id) return;
  const source = new EventSource(`/job/${id}/events`);
  view.events = source;
  setLive('connecting…');
  source.addEventListener('open', () => setLive('live'));
  source.addEventListener('log', (event) => appendLog(JSON.parse(event.data)));
  source.addEventListener('status', (event) => {
    const status = JSON.parse(event.data);
    // The server ends the stream after a terminal status; closing here keeps the
    // browser from reconnecting to a finished job.
    if (TERMINAL.has(status.status)) closeEvents(`job ${status.status}`);
    refreshJob();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CONNECTING) setLive('reconnecting…');
  });
}

function closeEvents(reason) {
  if (view.events) view.events.close();
  view.events = null;
  if (reason) setLive(`stream ended: ${reason}`);
}

function setLive(text) {
  const note = byId('log-live');
  if (note) note.textContent = text;
}

function appendLog(line) {
  // Re-opened streams start from the first line again; skip what is shown.
  if (line.id <= view.lastLogId) return;
  view.lastLogId = line.id;
  const log = byId('job-log');
  if (!log) return;
  const wrap = log.parentElement;
  const atBottom = wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 4;
  const where = line.step ? `${line.step}#${line.attempt ?? '?'}` : 'job';
  log.append(el('li', { class: `log-line level-${line.level}` },
    el('time', { datetime: line.at, text: new Date(line.at).toLocaleTimeString() }),
    el('span', { class: 'log-level', text: line.level }),
    el('span', { class: 'log-where', text: where }),
    el('span', { class: 'log-message', text: line.message })));
  while (log.childElementCount > MAX_LOG_LINES) log.firstElementChild.remove();
  if (atBottom) wrap.scrollTop = wrap.scrollHeight;
}

// ---- artifacts and outputs ----

async function loadArtifacts(id) {
  try {
    const answer = await api('GET', `/job/${id}/artifacts`);
    if (view.id !== id) return;
    const key = JSON.stringify(answer.artifacts);
    if (key === view.artifactsKey) return;
    view.artifactsKey = key;
    const items = answer.artifacts.map((a) => el('li', {},
      el('a', { href: a.href, text: a.path, download: a.path.split('/').pop() }),
      el('span', { class: 'muted small', text: ` ${formatBytes(a.size)} · ${a.step}` })));
    byId('job-artifacts').replaceChildren(...(items.length
      ? items : [el('li', { class: 'muted', text: 'None.' })]));
  } catch (e) {
    if (view.id === id) byId('job-artifacts').replaceChildren(el('li', { class: 'error-text', text: e.message }));
  }
}

function renderOutputs(job) {
  const box = byId('job-outputs');
  const entries = Object.entries(job.outputs || {});
  if (entries.length === 0) {
    box.replaceChildren(el('p', { class: 'muted', text: 'No step has completed yet.' }));
    view.outputs.clear();
    return;
  }
  // Re-render only what changed, so open/closed panels stay as the reader left them.
  const nodes = entries.map(([step, value]) => {
    const text = JSON.stringify(value, null, 2);
    const known = view.outputs.get(step);
    if (known && known.text === text) return known.node;
    const node = el('details', { class: 'output', data: { output: step }, open: OPEN_OUTPUTS.has(step) },
      el('summary', {}, el('span', { text: step }), el('span', { class: 'muted small', text: ` ${formatBytes(text.length)}` })),
      el('pre', { text }));
    if (known && known.node.open) node.open = true;
    view.outputs.set(step, { text, node });
    return node;
  });
  box.replaceChildren(...nodes);
}

// ---- routing and timers ----

function route() {
  const match = /^#\/job\/([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match) openJob(match[1].toLowerCase());
  else closeJob();
}

async function start() {
  byId('sign-in-form').addEventListener('submit', signIn);
  byId('sign-out').addEventListener('click', signOut);
  try {
    signedIn(await api('GET', '/session'));
  } catch {
    showSignIn();
  }
  const filter = byId('status-filter');
  filter.addEventListener('change', () => {
    list.filter = filter.value;
    loadList(true);
  });
  byId('load-more').addEventListener('click', loadMore);
  watchTooltips();
  window.addEventListener('hashchange', route);
  window.addEventListener('resize', hideTooltip);
  route();
  loadList(true);
  setInterval(() => {
    if (!document.hidden) loadList(false);
  }, LIST_REFRESH_MS);
  setInterval(() => {
    if (!document.hidden && view.job && !TERMINAL.has(view.job.status)) refreshJob();
  }, JOB_REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
