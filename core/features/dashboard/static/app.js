// The live dashboard: snapshots over server-sent events (/v1/stream), SKU lookups over the read API.
import { drawHistogram, drawSparkline } from './charts.js';
import { formatMs, formatPercent } from './human-format.js';

const TOKEN_KEY = 'stockrelay.token';
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {EventSource | null} */
let source = null;
let retryTimer = 0;
/** @type {Map<string, ReturnType<typeof channelCard>>} */
const cards = new Map();

// --- formatting -----------------------------------------------------------------------------------

// The hub's own rules (core/human-format.ts), so the page and the alerts say a figure the same way.
const ms = formatMs;
const percent = formatPercent;

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function el(tag, attributes = {}, text) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

// --- token ----------------------------------------------------------------------------------------

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

function showSignIn(message = '') {
  stopStream();
  $('live').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('token-error').textContent = message;
  $('status').textContent = 'not connected';
  $('token').focus();
}

/** Checks a token against a read route before anything is streamed, so a typo is said plainly. */
async function tokenWorks(candidate) {
  const res = await fetch('/v1/alerts', { headers: { authorization: `Bearer ${candidate}` } });
  if (res.status === 401) return 'The hub does not know this token.';
  if (res.status === 403) return 'This token may not read; use one with the read scope.';
  if (!res.ok) return `The hub answered ${res.status}.`;
  return '';
}

$('token-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const candidate = /** @type {HTMLInputElement} */ ($('token')).value.trim();
  $('token-error').textContent = '';
  try {
    const problem = await tokenWorks(candidate);
    if (problem) {
      $('token-error').textContent = problem;
      return;
    }
  } catch {
    $('token-error').textContent = 'The hub cannot be reached.';
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, candidate);
  /** @type {HTMLInputElement} */ ($('token')).value = '';
  start();
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn();
});

// --- stream ---------------------------------------------------------------------------------------

function stopStream() {
  clearTimeout(retryTimer);
  source?.close();
  source = null;
}

function start() {
  stopStream();
  const current = token();
  if (!current) return showSignIn();
  $('sign-in').hidden = true;
  $('live').hidden = false;
  $('sign-out').hidden = false;
  $('status').textContent = 'connecting…';
  // EventSource cannot send an Authorization header; /v1/stream alone accepts the token in the query.
  source = new EventSource(`/v1/stream?token=${encodeURIComponent(current)}`);
  source.addEventListener('snapshot', (event) => render(JSON.parse(/** @type {MessageEvent} */ (event).data)));
  source.addEventListener('error', async () => {
    if (!source || source.readyState !== EventSource.CLOSED) {
      $('status').textContent = 'reconnecting…';
      return;
    }
    // Closed for good: the token may have been withdrawn, or the hub is down.
    stopStream();
    try {
      const problem = await tokenWorks(current);
      if (problem) return showSignIn(problem);
    } catch {
      // the hub is unreachable; keep trying
    }
    $('status').textContent = 'hub unreachable, retrying…';
    retryTimer = window.setTimeout(start, 3000);
  });
}

// --- rendering ------------------------------------------------------------------------------------

function barLabels(bounds) {
  return [...bounds.map((b) => `≤ ${ms(b)}`), `> ${ms(bounds[bounds.length - 1])}`];
}

function figure(list, label, className) {
  const wrap = el('div', { class: `figure ${className}` });
  const value = el('dd', {}, '—');
  wrap.append(el('dt', {}, label), value);
  list.append(wrap);
  return value;
}

function channelCard(id, connector) {
  const card = el('article', { class: 'card', 'data-channel': id, 'aria-labelledby': `ch-${id}` });
  const head = el('header', { class: 'card-head' });
  head.append(el('h3', { id: `ch-${id}` }, id), el('span', { class: 'connector' }, connector));
  const badge = el('span', { class: 'badge' }, '');
  head.append(badge);
  const figures = el('dl', { class: 'figures' });
  const refs = {
    card,
    badge,
    p50: figure(figures, 'Lag p50', 'lag-p50'),
    p99: figure(figures, 'Lag p99', 'lag-p99'),
    success: figure(figures, 'Success', 'success'),
    throttles: figure(figures, 'Throttles', 'throttles'),
    backlog: figure(figures, 'Pending', 'backlog'),
    dead: figure(figures, 'Dead letters', 'dead-letters'),
    spark: /** @type {SVGSVGElement} */ (document.createElementNS('http://www.w3.org/2000/svg', 'svg')),
    histogram: /** @type {SVGSVGElement} */ (document.createElementNS('http://www.w3.org/2000/svg', 'svg')),
    sparkLabel: el('p', { class: 'chart-label' }, 'Lag p99 per second, last 2 minutes'),
    histogramLabel: el('p', { class: 'chart-label' }, 'Lag distribution, last minute'),
  };
  for (const svg of [refs.spark, refs.histogram]) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('class', 'chart');
  }
  card.append(head, figures, refs.sparkLabel, refs.spark, refs.histogramLabel, refs.histogram);
  return refs;
}

function channelState(c, thresholds, now) {
  if (c.deadLetters > 0 || c.parked > 0) return ['dead letters', 'bad'];
  if (c.throttledUntil > now) return ['throttled', 'warn'];
  if (c.success.recent !== null && c.success.recent < thresholds.minSuccessRate) return ['failing', 'bad'];
  if (c.lag.p99 !== null && c.lag.p99 > thresholds.syncLagP99Ms) return ['slow', 'warn'];
  if (c.pending > 0 || c.inFlight > 0) return ['catching up', 'info'];
  return ['in sync', 'ok'];
}

function render(snapshot) {
  const now = Date.parse(snapshot.at);
  $('status').textContent = `live · updated ${clock(snapshot.at)}`;
  $('ov-channels').textContent = String(snapshot.channels.length);
  $('ov-backlog').textContent = snapshot.backlog === null ? '—' : String(snapshot.backlog);
  $('ov-dlq').textContent = snapshot.eventDeadLetters === null ? '—' : String(snapshot.eventDeadLetters);
  $('ov-oversells').textContent = String(snapshot.oversells.length);
  $('ov-alerts').textContent = String(snapshot.alerts.length);
  renderAlerts(snapshot.alerts);

  const labels = barLabels(snapshot.lagBarsMs);
  const alarmBar = snapshot.lagBarsMs.findIndex((bound) => bound >= snapshot.thresholds.syncLagP99Ms) + 1;
  const grid = $('channels');
  const seen = new Set();
  for (const c of snapshot.channels) {
    seen.add(c.id);
    let card = cards.get(c.id);
    if (!card) {
      card = channelCard(c.id, c.connector);
      cards.set(c.id, card);
      grid.append(card.card);
    }
    const [state, tone] = channelState(c, snapshot.thresholds, now);
    card.badge.textContent = state;
    card.badge.className = `badge ${tone}`;
    card.p50.textContent = ms(c.lag.p50);
    card.p99.textContent = ms(c.lag.p99);
    card.p99.classList.toggle('alarm', c.lag.p99 !== null && c.lag.p99 > snapshot.thresholds.syncLagP99Ms);
    card.success.textContent = c.success.recent === null ? `${percent(c.success.sinceStart)}*` : percent(c.success.recent);
    card.success.title = `since start: ${percent(c.success.sinceStart)}; pushes in the last minute: ${c.success.attemptsRecent}`;
    card.success.classList.toggle('alarm', (c.success.recent ?? c.success.sinceStart) < snapshot.thresholds.minSuccessRate);
    card.throttles.textContent = String(c.throttles.recent);
    card.throttles.title = `${c.throttles.total} since the page's hub started`;
    card.backlog.textContent = String(c.pending);
    card.backlog.title = `${c.pending} SKU(s) waiting, ${c.inFlight} push call(s) on their way`;
    card.dead.textContent = String(c.deadLetters);
    card.dead.classList.toggle('alarm', c.deadLetters > 0);
    drawSparkline(card.spark, c.series, { threshold: snapshot.thresholds.syncLagP99Ms });
    const latest = [...c.series].reverse().find((v) => v !== null);
    card.spark.setAttribute('aria-label', `Lag p99 per second over the last 2 minutes; latest ${ms(latest ?? null)}`);
    drawHistogram(card.histogram, c.histogram, labels, alarmBar);
    card.histogram.setAttribute('aria-label', `Lag distribution over the last minute: ${c.histogram.map((n, i) => `${labels[i]} ${n}`).filter((_, i) => c.histogram[i] > 0).join(', ') || 'no confirmations'}`);
  }
  for (const [id, card] of cards) {
    if (seen.has(id)) continue;
    card.card.remove();
    cards.delete(id);
  }
  renderOversells(snapshot.oversells);
}

function renderAlerts(alerts) {
  $('alerts-section').hidden = alerts.length === 0;
  $('alerts').replaceChildren(...alerts.map((a) => el('li', { class: a.severity }, `${a.severity}: ${a.message}`)));
}

function renderOversells(items) {
  $('oversells-empty').hidden = items.length > 0;
  $('oversells').replaceChildren(
    ...items.map((o) => {
      const li = el('li');
      li.append(
        el('time', { datetime: o.at }, clock(o.at)),
        el('span', {}, ` ${o.sku}: `),
        el('strong', {}, `${o.shortfall} oversold`),
        el('span', {}, ` on ${o.channel} (asked ${o.requested}, ledger had ${o.availableBefore}) · ${o.eventId}`),
      );
      return li;
    }),
  );
}

// --- SKU search -----------------------------------------------------------------------------------

const STATE_TEXT = { in_sync: 'in sync', pending: 'pending', throttled: 'throttled', failing: 'failing', dead_lettered: 'dead-lettered' };

$('search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const sku = /** @type {HTMLInputElement} */ ($('sku')).value.trim();
  const out = $('search-result');
  if (!sku) return;
  out.replaceChildren(el('p', { class: 'hint' }, `Looking up ${sku}…`));
  let res;
  try {
    res = await fetch(`/v1/inventory/${encodeURIComponent(sku)}`, { headers: { authorization: `Bearer ${token()}` } });
  } catch {
    out.replaceChildren(el('p', { class: 'error' }, 'The hub cannot be reached.'));
    return;
  }
  if (res.status === 401) return showSignIn('The hub no longer accepts this token.');
  if (!res.ok) {
    out.replaceChildren(el('p', { class: 'error' }, `The hub answered ${res.status}.`));
    return;
  }
  renderInventory(await res.json());
});

function renderInventory(status) {
  const out = $('search-result');
  if (!status.known) {
    out.replaceChildren(el('p', { class: 'result-head' }, `${status.sku}: the ledger does not know this SKU.`));
    return;
  }
  const head = el('p', { class: 'result-head' });
  head.append(
    el('strong', {}, status.sku),
    el('span', {}, `: ledger ${status.available} available · version ${status.version} · updated ${clock(status.updatedAt)} · ${status.summary.channelsInSync}/${status.summary.channels} channels in sync`),
  );
  const table = el('table', { class: 'inventory' });
  table.append(el('caption', { class: 'visually-hidden' }, `What every channel shows for ${status.sku}`));
  const thead = el('thead');
  const headRow = el('tr');
  for (const [name, kind] of [['Channel', ''], ['Shows', 'num'], ['Should show', 'num'], ['Behind', 'num'], ['State', '']]) headRow.append(el('th', { scope: 'col', class: kind }, name));
  thead.append(headRow);
  const tbody = el('tbody');
  for (const c of status.channels) {
    const row = el('tr', { 'data-channel': c.channel });
    row.append(
      el('th', { scope: 'row' }, c.channel),
      el('td', { class: 'num' }, c.shown === null ? '—' : String(c.shown)),
      el('td', { class: 'num' }, String(c.target)),
      el('td', { class: 'num' }, c.versionsBehind === 0 ? '0' : `${c.versionsBehind} (${ms(c.msBehind)})`),
      el('td', { class: `state ${c.state}` }, STATE_TEXT[c.state] ?? c.state),
    );
    if (c.lastError) row.title = c.lastError;
    tbody.append(row);
  }
  table.append(thead, tbody);
  out.replaceChildren(head, table);
}

start();
