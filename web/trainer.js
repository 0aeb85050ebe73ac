// csei workshop, the trainer view: the room's controls (scenario, locked sliders, reveal,
// reset, export), who is connected, and every group's latest and kept runs on one chart and
// one table, and the map of a chosen run over time (map.js, as on the participant page). Polls
// /api/trainer/state; the trainer code travels in a cookie.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#B07800', '#56B4E9', '#000000',
  '#E69F00'];
const DASHES = ['', '10 5', '2 4', '14 4 3 4', '6 3'];
const $ = (id) => document.getElementById(id);
const trainer = { catalogue: null, state: null, editing: false, mapRun: null, mapStep: null, playing: null };
window.trainer = trainer;

function el(tag, attrs = {}, text) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function showError(e) { $('error').textContent = e ? String(e.message || e) : ''; }

function sliderNames() {
  const names = new Map();
  for (const sc of trainer.catalogue.scenarios)
    for (const s of sc.sliders) if (!names.has(s.name)) names.set(s.name, s.label);
  return names;
}

function buildControls() {
  const select = $('room-scenario');
  for (const sc of trainer.catalogue.scenarios) select.append(el('option', { value: sc.id }, sc.title));
  select.addEventListener('change', () => setRoom({ scenario: select.value || null }));
  const box = $('locks');
  for (const [name, label] of sliderNames()) {
    const wrap = el('label', { class: 'check' });
    const input = el('input', { type: 'checkbox', value: name, id: `lock-${name}` });
    input.addEventListener('change', () => {
      const locked = [...box.querySelectorAll('input:checked')].map((i) => i.value);
      setRoom({ locked });
    });
    wrap.append(input, ` ${label}`);
    box.append(wrap);
  }
  $('challenge-set').addEventListener('click', () => setRoom({
    challenge: {
      goal_share: Number($('goal-share').value) / 100,
      goal_years: Number($('goal-years').value),
      budget: Number($('budget').value),
    },
  }));
  $('challenge-end').addEventListener('click', () => setRoom({ challenge: null }));
  $('reveal').addEventListener('change', () => setRoom({ reveal: $('reveal').checked }));
  $('reset-session').addEventListener('click', async () => {
    if (!window.confirm('Forget every run of this session, unlock the sliders and hide the class\'s results?')) return;
    try { await api('/api/trainer/reset', {}); $('status').textContent = 'Session reset.'; await refresh(); } catch (e) { showError(e); }
  });
}

async function setRoom(change) {
  try {
    showError(null);
    await api('/api/trainer/room', change);
    $('status').textContent = 'Saved: participants see it within a few seconds.';
    await refresh();
  } catch (e) { showError(e); }
}

// The runs on the chart: every group's latest run and its kept runs.
function shownRuns(runs) {
  const latest = new Map();
  for (const r of runs) latest.set(r.who, r);
  return runs.filter((r) => r.kept || latest.get(r.who) === r);
}

function drawChart(runs) {
  const svg = $('chart');
  svg.replaceChildren();
  const W = 800, H = 420, L = 70, R = 20, T = 20, B = 60;
  const maxYears = Math.max(1, ...runs.map((r) => r.steps / r.steps_per_year));
  const x = (y) => L + (W - L - R) * (y / maxYears);
  const y = (s) => T + (H - T - B) * (1 - s);
  const grid = el('svg:g', { class: 'grid' });
  for (let i = 0; i <= 4; ++i) {
    grid.append(el('svg:line', { x1: L, x2: W - R, y1: y(i / 4), y2: y(i / 4) }));
    grid.append(el('svg:text', { x: L - 8, y: y(i / 4) + 6, 'text-anchor': 'end' }, `${i * 25} %`));
  }
  const step = maxYears > 10 ? 5 : maxYears > 4 ? 2 : 1;
  for (let t = 0; t <= maxYears + 1e-9; t += step)
    grid.append(el('svg:text', { x: x(t), y: H - B + 24, 'text-anchor': 'middle' }, String(t)));
  grid.append(el('svg:text', { x: (L + W - R) / 2, y: H - 12, 'text-anchor': 'middle', class: 'axis-title' }, 'years'));
  svg.append(grid);
  const groups = [...new Set(runs.map((r) => r.who))];
  const legend = $('legend');
  legend.replaceChildren();
  runs.forEach((r) => {
    const g = groups.indexOf(r.who);
    const colour = COLOURS[g % COLOURS.length];
    // Each group has its own colour and dash (two groups with the same run both show);
    // kept runs are drawn thinner.
    const dash = DASHES[g % DASHES.length];
    const pts = r.share.map((s, i) => `${x(i / r.steps_per_year).toFixed(1)},${y(s ?? 0).toFixed(1)}`);
    svg.append(el('svg:polyline', {
      points: pts.join(' '), fill: 'none', stroke: colour, 'stroke-width': r.kept ? 2 : 4,
      'stroke-dasharray': dash, 'data-run': r.id, 'data-who': r.who,
    }));
    const li = el('li');
    const key = el('svg:svg', { width: 40, height: 12, 'aria-hidden': 'true' });
    key.append(el('svg:line', { x1: 0, x2: 40, y1: 6, y2: 6, stroke: colour, 'stroke-width': r.kept ? 2 : 4, 'stroke-dasharray': dash }));
    li.append(key, ` ${r.who}: ${r.id}${r.kept ? ' (kept)' : ' (latest)'}, ${pct(r.final_share)}`);
    legend.append(li);
  });
}

function drawTable(runs) {
  const body = $('class-table').querySelector('tbody');
  body.replaceChildren();
  for (const r of runs) {
    const tr = el('tr', { 'data-run': r.id });
    const values = Object.entries(r.params).map(([k, v]) => `${k} ${v}`).join(', ');
    const half = r.steps_to_50 === null ? 'not reached' : `${(r.steps_to_50 / r.steps_per_year).toFixed(1)} years`;
    tr.append(el('th', { scope: 'row' }, r.who), el('td', {}, `${r.id}${r.kept ? ' (kept)' : ''}`),
      el('td', {}, r.scenario), el('td', {}, values), el('td', { class: 'num' }, pct(r.final_share)),
      el('td', { class: 'num' }, half));
    const chosen = trainer.mapRun && trainer.mapRun.id === r.id;
    const button = el('button', { type: 'button', class: 'show-map', 'data-run': r.id, 'aria-pressed': String(Boolean(chosen)) },
      chosen ? 'On the map' : 'Show map');
    button.addEventListener('click', () => chooseMap(r.id));
    const cell = el('td');
    cell.append(button);
    tr.append(cell);
    if (chosen) tr.classList.add('chosen');
    body.append(tr);
  }
}

// ---- the map of a chosen run (map.js), with its time slider ----

function mapStep(run) {
  return trainer.mapStep === null ? run.steps : Math.min(trainer.mapStep, run.steps);
}

function colourMap() {
  const run = trainer.mapRun;
  const fig = $('maps').querySelector('figure');
  if (!run || !fig) return;
  const step = mapStep(run);
  CseiMap.colourMap(fig, run, step);
  const year = (step / run.steps_per_year).toFixed(1);
  $('map-year').textContent = year;
  $('map-step').setAttribute('aria-valuetext', `year ${year}`);
}

function drawRunMap() {
  const run = trainer.mapRun;
  const box = $('maps');
  box.replaceChildren();
  const slider = $('map-step');
  slider.disabled = !run;
  $('map-play').disabled = !run;
  $('map-readout').textContent = '';
  CseiMap.drawAttribution($('map-attribution'), run ? [run] : []);
  CseiMap.drawScale($('scale'), Boolean(run));
  if (!run) {
    $('map-choice').textContent = 'Choose a run in the table (its "Show map" button) to see its map.';
    $('map-year').textContent = '–';
    return;
  }
  const title = `${run.who}: ${run.id} (${run.scenario})`;
  $('map-choice').textContent = `The map of ${title}.`;
  box.append(CseiMap.drawMap(run, title, {
    step: mapStep, readout: (text) => { $('map-readout').textContent = text; },
  }));
  slider.max = String(run.steps);
  slider.value = String(mapStep(run));
  colourMap();
}

async function chooseMap(id) {
  try {
    showError(null);
    stopPlaying();
    trainer.mapRun = await api(`/api/trainer/run/${encodeURIComponent(id)}`);
    trainer.mapStep = null;
    drawRunMap();
    if (trainer.state) drawTable(shownRuns(trainer.state.runs));
  } catch (e) { showError(e); }
}

function setMapStep(step) {
  const max = Number($('map-step').max);
  trainer.mapStep = step >= max ? null : step;
  $('map-step').value = String(Math.min(step, max));
  colourMap();
}

function stopPlaying() {
  if (trainer.playing !== null) clearInterval(trainer.playing);
  trainer.playing = null;
  $('map-play').textContent = 'Play';
  $('map-play').setAttribute('aria-pressed', 'false');
}

function togglePlay() {
  if (trainer.playing !== null) { stopPlaying(); return; }
  const slider = $('map-step');
  const max = Number(slider.max);
  if (Number(slider.value) >= max) setMapStep(0);
  $('map-play').textContent = 'Pause';
  $('map-play').setAttribute('aria-pressed', 'true');
  const stride = Math.max(1, Math.round(max / 60));
  trainer.playing = setInterval(() => {
    const next = Number(slider.value) + stride;
    setMapStep(Math.min(next, max));
    if (next >= max) stopPlaying();
  }, 120);
}

function drawPeople(state) {
  const list = $('people');
  list.replaceChildren();
  if (!state.participants.length) list.append(el('li', {}, 'Nobody has joined yet.'));
  for (const p of state.participants) {
    const ago = Math.round(p.seen_seconds_ago);
    list.append(el('li', { class: p.connected ? 'on' : 'off' },
      `${p.connected ? '●' : '○'} ${p.name}: ${p.runs} run${p.runs === 1 ? '' : 's'}, ${p.connected ? 'connected' : `last seen ${ago} s ago`}`));
  }
}

function drawRoom(state) {
  $('join-url').textContent = state.join_url;
  $('join-code').textContent = state.join_code;
  const qr = $('qr');
  if (qr.dataset.url !== state.join_url) {
    // The SVG is made by the server from the QR matrix; parsed as an image document.
    const doc = new DOMParser().parseFromString(state.qr_svg, 'image/svg+xml');
    qr.replaceChildren(document.importNode(doc.documentElement, true));
    qr.dataset.url = state.join_url;
  }
  $('room-scenario').value = state.room.scenario || '';
  for (const input of $('locks').querySelectorAll('input'))
    input.checked = state.room.locked.includes(input.value);
  $('reveal').checked = state.room.reveal;
}

const euros = (x) => `€${Math.round(x).toLocaleString('en')}`;

function drawRanking(state) {
  $('ranking').hidden = !state.ranking;
  if (!state.ranking) return;
  const c = state.room.challenge;
  $('ranking-title').textContent = `Challenge: ${Math.round(100 * c.goal_share)} % adopted within ${c.goal_years} years, budget ${euros(c.budget)}: each group's best run within it`;
  const body = $('ranking-table').querySelector('tbody');
  body.replaceChildren();
  const { by_outcome: outcome, by_return: ret } = state.ranking;
  for (let i = 0; i < outcome.length; ++i) {
    const o = outcome[i];
    const r = ret[i];
    body.append(el('tr', {}));
    const tr = body.lastChild;
    tr.append(el('th', { scope: 'row' }, `${i + 1}. ${o.who}${o.reached ? ' (goal reached)' : ''}`),
      el('td', { class: 'num' }, pct(o.share_at_goal)), el('td', { class: 'num' }, euros(o.policy_spending)),
      el('td', {}, `${i + 1}. ${r.who}`),
      el('td', { class: 'num' }, r.adopters_per_million === null ? 'nothing spent' : Math.round(r.adopters_per_million).toLocaleString('en')));
  }
}

async function refresh() {
  try {
    const state = await api('/api/trainer/state');
    trainer.state = state;
    drawRoom(state);
    drawPeople(state);
    drawRanking(state);
    // A run that the session no longer has (a reset) leaves the map.
    if (trainer.mapRun && !state.runs.some((r) => r.id === trainer.mapRun.id)) {
      stopPlaying();
      trainer.mapRun = null;
      drawRunMap();
    }
    const runs = shownRuns(state.runs);
    drawChart(runs);
    drawTable(runs);
  } catch (e) { showError(e); }
}

async function start() {
  try {
    trainer.catalogue = await api('/api/scenarios');
    buildControls();
    $('map-step').addEventListener('input', () => { stopPlaying(); setMapStep(Number($('map-step').value)); });
    $('map-play').addEventListener('click', togglePlay);
    await refresh();
    setInterval(refresh, 2000);
  } catch (e) { showError(e); }
}

start();
