// csei workshop page: scenario and sliders, runs through the local API, adoption curves and
// maps in plain SVG (map.js: the EU-27 countries or NUTS-2 regions from map_eu27.js, pre-projected;
// tiles for other territories), a time slider over the run, kept runs for comparison. No
// libraries, no network beyond this server.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_KEPT = 4;
// Colour-blind-safe (Okabe-Ito) colours and dash patterns, so lines differ in more than colour.
const CURRENT = { colour: '#0072B2', dash: '' };
const PREVIOUS = { colour: '#5f5f5f', dash: '3 5' };
const KEPT_STYLES = [
  { colour: '#D55E00', dash: '10 5' },
  { colour: '#009E73', dash: '2 4' },
  { colour: '#CC79A7', dash: '14 4 3 4' },
  { colour: '#B07800', dash: '6 3' },
];
const $ = (id) => document.getElementById(id);
const state = {
  catalogue: null,
  scenario: null, // the chosen scenario's catalogue entry
  runs: {},       // scenario id -> { current, previous, kept: [] }
  values: {},     // scenario id -> slider values last set
  counter: 0,
  mapStep: null,  // step shown on the maps (null: the last)
  playing: null,  // interval id while the maps play
  room: null,     // the room (api/room): joined, locked sliders, the trainer's scenario, reveal
};
// For tests and the curious: the runs on screen.
window.workshop = state;

function el(tag, attrs = {}, text) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)} %`);
const years = (steps, perYear) => steps / perYear;
const fmtYears = (y) => `${y.toFixed(1)} years`;
function fmtValue(slider, v) {
  if (slider.integer) return String(Math.round(v));
  const decimals = slider.step < 0.1 ? 2 : slider.step < 1 ? 1 : 0;
  return Number(v).toFixed(decimals);
}

function scenarioRuns(id) {
  if (!state.runs[id]) state.runs[id] = { current: null, previous: null, kept: [] };
  return state.runs[id];
}

// ---- controls ----

function buildSliders(sc, values = {}) {
  const box = $('sliders');
  box.querySelectorAll('.slider').forEach((n) => n.remove());
  for (const s of sc.sliders) {
    const id = `p-${s.name}`;
    const wrap = el('div', { class: 'slider' });
    const label = el('label', { for: id });
    label.append(el('span', { class: 'name' }, s.label));
    const value = s.name in values ? values[s.name] : s.value;
    const out = el('output', { id: `o-${s.name}`, for: id, class: 'value' }, fmtValue(s, value));
    label.append(out);
    const input = el('input', {
      type: 'range', id, name: s.name, min: s.min, max: s.max, step: s.step, value,
      'aria-describedby': `h-${s.name}`, 'aria-valuetext': fmtValue(s, value),
    });
    if (isLocked(s.name)) {
      input.value = s.value;
      input.disabled = true;
      out.textContent = fmtValue(s, s.value);
      label.append(el('span', { class: 'locked' }, ' (locked by the trainer)'));
    }
    input.addEventListener('input', () => {
      out.textContent = fmtValue(s, Number(input.value));
      input.setAttribute('aria-valuetext', out.textContent);
    });
    const range = el('span', { class: 'range', 'aria-hidden': 'true' },
      `${fmtValue(s, s.min)} – ${fmtValue(s, s.max)} (scenario: ${fmtValue(s, s.value)})`);
    wrap.append(label, input, range, el('p', { id: `h-${s.name}`, class: 'help' }, s.help));
    box.append(wrap);
  }
  $('seed').value = 'seed' in values ? values.seed : sc.seed;
}

function readParams(sc) {
  const params = {};
  for (const s of sc.sliders) params[s.name] = isLocked(s.name) ? s.value : Number($(`p-${s.name}`).value);
  return params;
}

function isLocked(name) {
  return Boolean(state.room && state.room.locked.includes(name));
}

function changedText(sc, params) {
  const parts = [];
  for (const s of sc.sliders) {
    if (Math.abs(params[s.name] - s.value) > 1e-9) parts.push(`${s.label}: ${fmtValue(s, params[s.name])}`);
  }
  return parts.length ? parts.join('; ') : 'scenario values';
}

function chooseScenario(id) {
  // Each scenario keeps the values last set for it.
  if (state.scenario) {
    state.values[state.scenario.id] = { ...readParams(state.scenario), seed: $('seed').value };
  }
  const sc = state.catalogue.scenarios.find((s) => s.id === id);
  state.scenario = sc;
  $('scenario-summary').textContent = sc.summary;
  buildSliders(sc, state.values[id]);
  $('members-toggle').hidden = !sc.clusters;
  render();
}

// ---- running ----

async function run(event) {
  if (event) event.preventDefault();
  const sc = state.scenario;
  const params = readParams(sc);
  const body = { scenario: sc.id, params };
  const seed = $('seed').value.trim();
  if (seed !== '') body.seed = Number(seed);
  $('run').disabled = true;
  $('results').setAttribute('aria-busy', 'true');
  $('status').textContent = 'Running…';
  $('error').textContent = '';
  try {
    const t0 = performance.now();
    const res = await fetch('api/run', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
    state.counter += 1;
    data.label = `Run ${state.counter}`;
    data.changed = changedText(sc, params);
    data.ms = performance.now() - t0;
    const r = scenarioRuns(sc.id);
    r.previous = r.current;
    r.current = data;
    render();
    const inn = data.innovations[0];
    const cost = data.policy_spending > 0 ? ` Policy spending: €${Math.round(data.policy_spending).toLocaleString('en')}.` : '';
    $('status').textContent = `${data.label} done in ${Math.round(data.ms)} ms: ${pct(inn.summary.final_share)} adopted after ${fmtYears(years(data.steps, data.steps_per_year))}.${cost}`;
  } catch (err) {
    $('status').textContent = '';
    $('error').textContent = `Could not run: ${err.message}`;
  } finally {
    $('run').disabled = Boolean(state.room && state.room.must_join);
    $('results').setAttribute('aria-busy', 'false');
  }
}

function keep() {
  const r = scenarioRuns(state.scenario.id);
  if (!r.current || r.kept.some((k) => k.id === r.current.id)) return;
  if (r.kept.length >= MAX_KEPT) r.kept.shift();
  r.kept.push(r.current);
  // The trainer's view shows kept runs; a failure here only loses that mark.
  fetch('api/keep', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id: r.current.id, kept: true }),
  }).catch(() => {});
  render();
  $('status').textContent = `${r.current.label} kept for comparison (${r.kept.length} of ${MAX_KEPT}).`;
}

function clearKept() {
  scenarioRuns(state.scenario.id).kept = [];
  render();
  $('status').textContent = 'Kept runs cleared.';
}

// ---- what is shown ----

// The runs on screen, in drawing order (kept first, the current run on top).
// A run kept and still current is shown once, as the current run (marked kept).
function shownRuns() {
  const r = scenarioRuns(state.scenario.id);
  const out = [];
  const current = r.current ? r.current.id : null;
  r.kept.forEach((run, i) => {
    if (run.id !== current) out.push({ run, style: KEPT_STYLES[i % KEPT_STYLES.length], role: 'kept' });
  });
  if (r.previous && r.previous.id !== current && !r.kept.some((k) => k.id === r.previous.id)) out.push({ run: r.previous, style: PREVIOUS, role: 'previous' });
  if (r.current) out.push({ run: r.current, style: CURRENT, role: 'current', kept: r.kept.some((k) => k.id === current) });
  return out;
}

function render() {
  const shown = shownRuns();
  const r = scenarioRuns(state.scenario.id);
  drawChart(shown);
  drawLegend(shown);
  drawMaps(shown);
  drawTable(shown);
  const kept = r.current && r.kept.some((k) => k.id === r.current.id);
  $('keep').disabled = !r.current || kept;
  $('clear').disabled = r.kept.length === 0;
  const exp = $('export');
  if (r.current) {
    exp.href = r.current.export;
    exp.setAttribute('aria-disabled', 'false');
    exp.setAttribute('download', `${r.current.scenario}_${r.current.id}.h5`);
  } else {
    exp.removeAttribute('href');
    exp.setAttribute('aria-disabled', 'true');
  }
}

function roleText(item) {
  if (item.role === 'current') return `${item.run.label} (this run${item.kept ? ', kept' : ''})`;
  if (item.role === 'previous') return `${item.run.label} (previous)`;
  return `${item.run.label} (kept)`;
}

function drawChart(shown) {
  const svg = $('chart');
  svg.replaceChildren();
  const W = 800, H = 420, L = 70, R = 20, T = 20, B = 60;
  const sc = state.scenario;
  const maxSteps = Math.max(sc.steps, ...shown.map((s) => s.run.steps));
  const maxYears = years(maxSteps, sc.steps_per_year);
  const x = (step, perYear) => L + (W - L - R) * (years(step, perYear) / maxYears);
  const y = (share) => T + (H - T - B) * (1 - share);
  // Axes and grid.
  const grid = el('svg:g', { class: 'grid', 'aria-hidden': 'true' });
  for (let p = 0; p <= 100; p += 25) {
    grid.append(el('svg:line', { x1: L, x2: W - R, y1: y(p / 100), y2: y(p / 100) }));
    grid.append(el('svg:text', { x: L - 10, y: y(p / 100) + 6, 'text-anchor': 'end' }, `${p}%`));
  }
  const stepYears = maxYears > 12 ? 2 : 1;
  for (let yr = 0; yr <= maxYears + 1e-9; yr += stepYears) {
    const px = L + (W - L - R) * (yr / maxYears);
    grid.append(el('svg:line', { x1: px, x2: px, y1: T, y2: H - B, class: 'vertical' }));
    grid.append(el('svg:text', { x: px, y: H - B + 26, 'text-anchor': 'middle' }, String(yr)));
  }
  grid.append(el('svg:text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-title' }, 'years'));
  svg.append(grid);

  const line = (values, perYear) => values.map((v, i) => (v === null ? null : `${x(i, perYear).toFixed(1)},${y(v).toFixed(1)}`))
    .filter((p) => p !== null).join(' ');
  const lines = el('svg:g', { class: 'lines' });
  for (const item of shown) {
    const inn = item.run.innovations[0];
    const attrs = {
      points: line(inn.share, item.run.steps_per_year), fill: 'none', stroke: item.style.colour,
      'stroke-width': item.role === 'current' ? 5 : 3.5, 'stroke-linejoin': 'round',
      class: `run-line ${item.role}`, 'data-run': item.run.id, 'data-role': item.role,
      'data-values': JSON.stringify(inn.share),
    };
    if (item.style.dash) attrs['stroke-dasharray'] = item.style.dash;
    const pl = el('svg:polyline', attrs);
    pl.append(el('svg:title', {}, `${roleText(item)}: ${pct(inn.summary.final_share)} at the end`));
    lines.append(pl);
  }
  const cur = shown.find((s) => s.role === 'current');
  if (cur && $('show-members').checked && state.scenario.clusters) {
    const inn = cur.run.innovations[0];
    for (const [key, dash, name] of [['member_share', '1 0', 'members'], ['nonmember_share', '2 3', 'non-members']]) {
      const pl = el('svg:polyline', {
        points: line(inn[key], cur.run.steps_per_year), fill: 'none', stroke: '#111',
        'stroke-width': 2, 'stroke-dasharray': dash, class: `members-line ${key}`,
      });
      pl.append(el('svg:title', {}, `This run, cluster ${name}`));
      lines.append(pl);
    }
  }
  svg.append(lines);

  let desc = 'Share of organisations that have adopted, by year. ';
  desc += shown.length ? shown.map((s) => `${roleText(s)}: ${pct(s.run.innovations[0].summary.final_share)} at the end`).join('; ') + '.'
    : 'No run yet.';
  $('chart-desc').textContent = desc;
}

function drawLegend(shown) {
  const ul = $('legend');
  ul.replaceChildren();
  for (const item of [...shown].reverse()) {
    const li = el('li');
    const sw = el('svg:svg', { width: 48, height: 14, 'aria-hidden': 'true' });
    const attrs = { x1: 0, x2: 48, y1: 7, y2: 7, stroke: item.style.colour, 'stroke-width': item.role === 'current' ? 5 : 3.5 };
    if (item.style.dash) attrs['stroke-dasharray'] = item.style.dash;
    sw.append(el('svg:line', attrs));
    li.append(sw, document.createTextNode(` ${roleText(item)}: ${item.run.changed}`));
    ul.append(li);
  }
  const cur = shown.find((s) => s.role === 'current');
  if (cur && $('show-members').checked && state.scenario.clusters) {
    for (const [dash, name] of MEMBER_LINES) {
      const li = el('li', { class: 'members-key' });
      const sw = el('svg:svg', { width: 48, height: 14, 'aria-hidden': 'true' });
      sw.append(el('svg:line', { x1: 0, x2: 48, y1: 7, y2: 7, stroke: '#111', 'stroke-width': 2, 'stroke-dasharray': dash }));
      li.append(sw, document.createTextNode(` ${cur.run.label} (this run), cluster ${name}`));
      ul.append(li);
    }
  }
}

const MEMBER_LINES = [['1 0', 'members'], ['2 3', 'non-members']];

// The maps' helpers (map.js).
const { territoryName } = window.CseiMap;

function shownStep(run) {
  return state.mapStep === null ? run.steps : Math.min(state.mapStep, run.steps);
}

function readout(text) {
  $('map-readout').textContent = text;
}

// Colours every map at the slider's step.
function colourMaps() {
  const shown = shownRuns();
  document.querySelectorAll('#maps figure').forEach((fig) => {
    const item = shown.find((s) => s.run.id === fig.dataset.run);
    if (item) CseiMap.colourMap(fig, item.run, shownStep(item.run));
  });
  const cur = shown.find((s) => s.role === 'current') || shown[shown.length - 1];
  if (cur) {
    const step = shownStep(cur.run);
    $('map-year').textContent = years(step, cur.run.steps_per_year).toFixed(1);
    $('map-step').setAttribute('aria-valuetext', `year ${years(step, cur.run.steps_per_year).toFixed(1)}`);
  }
}

function setMapStep(step) {
  const slider = $('map-step');
  const max = Number(slider.max);
  state.mapStep = step >= max ? null : step;
  slider.value = String(Math.min(step, max));
  colourMaps();
}

function stopPlaying() {
  if (state.playing !== null) clearInterval(state.playing);
  state.playing = null;
  $('map-play').textContent = 'Play';
  $('map-play').setAttribute('aria-pressed', 'false');
}

function togglePlay() {
  if (state.playing !== null) { stopPlaying(); return; }
  const slider = $('map-step');
  const max = Number(slider.max);
  if (Number(slider.value) >= max) setMapStep(0);
  $('map-play').textContent = 'Pause';
  $('map-play').setAttribute('aria-pressed', 'true');
  const stride = Math.max(1, Math.round(max / 60));
  state.playing = setInterval(() => {
    const next = Number(slider.value) + stride;
    setMapStep(Math.min(next, max));
    if (next >= max) stopPlaying();
  }, 120);
}

function drawMaps(shown) {
  const box = $('maps');
  box.replaceChildren();
  readout(''); // a value read from the maps drawn before is stale now
  // Small multiples: one row of up to three maps, then more rows, so kept runs fit a projector.
  box.dataset.count = String(shown.length);
  box.style.setProperty('--columns', String(Math.min(3, Math.max(1, shown.length))));
  for (const item of [...shown].reverse()) box.append(CseiMap.drawMap(item.run, roleText(item), { step: shownStep, readout }));
  const slider = $('map-step');
  const max = shown.length ? Math.max(...shown.map((s) => s.run.steps)) : 0;
  slider.max = String(max);
  slider.disabled = !shown.length;
  $('map-play').disabled = !shown.length;
  if (state.mapStep !== null && state.mapStep > max) state.mapStep = null;
  slider.value = String(state.mapStep === null ? max : state.mapStep);
  colourMaps();
  CseiMap.drawAttribution($('map-attribution'), shown.map((s) => s.run));
  CseiMap.drawScale($('scale'), shown.length > 0);
}

function drawTable(shown) {
  const tbody = $('runs-table').querySelector('tbody');
  tbody.replaceChildren();
  for (const item of [...shown].reverse()) {
    const { run } = item;
    const s = run.innovations[0].summary;
    const tr = el('tr', { 'data-run': run.id, 'data-role': item.role });
    tr.append(el('th', { scope: 'row' }, roleText(item)));
    tr.append(el('td', {}, run.changed));
    tr.append(el('td', { class: 'num final-share', 'data-value': s.final_share }, pct(s.final_share)));
    tr.append(el('td', { class: 'num' }, s.steps_to_50 === null ? 'not reached' : fmtYears(years(s.steps_to_50, run.steps_per_year))));
    tr.append(el('td', { class: 'num' }, s.member_share === null ? '–' : `${pct(s.member_share)} / ${pct(s.nonmember_share)}`));
    const firstIndex = run.territories.findIndex((t) => t.code === s.first_territory_50);
    const first = firstIndex >= 0 ? run.territories[firstIndex] : null;
    tr.append(el('td', {}, first ? `${territoryName(run, firstIndex)} (${fmtYears(years(s.first_step_50, run.steps_per_year))})` : '–'));
    tbody.append(tr);
  }
}

// ---- the room (csei workshop --lan) ----

async function loadRoom() {
  let room;
  try {
    const res = await fetch('api/room');
    if (!res.ok) return;
    room = await res.json();
  } catch (err) {
    return;
  }
  const changed = JSON.stringify(state.room) !== JSON.stringify(room);
  state.room = room;
  $('join').hidden = !room.must_join;
  let note = room.joined ? `You are ${room.name}.` : '';
  if (room.challenge) {
    const c = room.challenge;
    note += ` Challenge: ${Math.round(100 * c.goal_share)} % adopted within ${c.goal_years} years, with at most €${Math.round(c.budget).toLocaleString('en')} of policy.`;
  }
  $('who').textContent = note.trim();
  $('run').disabled = room.must_join;
  const select = $('scenario');
  select.disabled = Boolean(room.scenario);
  if (changed && state.scenario) {
    if (room.scenario && state.scenario.id !== room.scenario) {
      select.value = room.scenario;
      chooseScenario(room.scenario);
    } else {
      const sc = state.scenario;
      buildSliders(sc, { ...readParams(sc), seed: $('seed').value });
    }
  }
  if (room.reveal) await loadClass();
  else $('class-runs').hidden = true;
}

async function loadClass() {
  let data;
  try {
    const res = await fetch('api/runs');
    if (!res.ok) return;
    data = await res.json();
  } catch (err) {
    return;
  }
  if (!data.class) return;
  const tbody = $('class-table').querySelector('tbody');
  tbody.replaceChildren();
  for (const r of data.class) {
    const values = Object.entries(r.params).map(([k, v]) => `${k} ${v}`).join(', ');
    const half = r.steps_to_50 === null ? 'not reached' : fmtYears(years(r.steps_to_50, r.steps_per_year));
    const tr = el('tr', { 'data-run': r.id });
    tr.append(el('th', { scope: 'row' }, r.who), el('td', {}, `${r.id}${r.kept ? ' (kept)' : ''}`),
      el('td', {}, r.scenario), el('td', {}, values), el('td', { class: 'num' }, pct(r.final_share)),
      el('td', { class: 'num' }, half));
    tbody.append(tr);
  }
  $('class-runs').hidden = false;
}

async function join(event) {
  event.preventDefault();
  const name = $('join-name').value.trim();
  if (!name) return;
  try {
    const res = await fetch('api/join', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
    $('error').textContent = '';
    await loadRoom();
  } catch (err) {
    $('error').textContent = `Could not join: ${err.message}`;
  }
}

// ---- start ----

async function start() {
  try {
    const res = await fetch('api/scenarios');
    state.catalogue = await res.json();
  } catch (err) {
    $('error').textContent = `Could not reach the workshop server: ${err.message}`;
    return;
  }
  const select = $('scenario');
  for (const sc of state.catalogue.scenarios) select.append(el('option', { value: sc.id }, sc.title));
  select.addEventListener('change', () => chooseScenario(select.value));
  $('run-form').addEventListener('submit', run);
  $('reset').addEventListener('click', () => buildSliders(state.scenario));
  $('keep').addEventListener('click', keep);
  $('clear').addEventListener('click', clearKept);
  $('show-members').addEventListener('change', render);
  $('map-step').addEventListener('input', () => { stopPlaying(); setMapStep(Number($('map-step').value)); });
  $('map-play').addEventListener('click', togglePlay);
  $('export').addEventListener('click', (e) => {
    if ($('export').getAttribute('aria-disabled') === 'true') e.preventDefault();
  });
  $('join').addEventListener('submit', join);
  await loadRoom();
  if (state.room && state.room.scenario) select.value = state.room.scenario;
  chooseScenario(select.value);
  setInterval(loadRoom, 3000);
  document.body.dataset.ready = 'true';
}

start();
