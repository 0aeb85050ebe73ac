// csei workshop: the maps of a run, shared by the participant page (app.js) and the trainer
// view (trainer.js): a choropleth of the EU-27 countries or NUTS-2 regions from map_eu27.js
// (pre-projected), tiles for other territories, coloured at any step of the run (the time
// slider). No libraries. Everything is on window.CseiMap.
'use strict';

(() => {
const SVG = 'http://www.w3.org/2000/svg';
// EU-27 tile grid (row, column), the same layout as analysis/csei_analysis/maps.py.
const EU27_TILES = {
  SE: [0, 3], FI: [0, 5],
  IE: [1, 0], DK: [1, 3], EE: [1, 5],
  NL: [2, 2], DE: [2, 3], PL: [2, 4], LV: [2, 5],
  BE: [3, 1], LU: [3, 2], CZ: [3, 3], SK: [3, 4], LT: [3, 5],
  FR: [4, 1], AT: [4, 3], HU: [4, 4], RO: [4, 5],
  PT: [5, 0], ES: [5, 1], IT: [5, 2], SI: [5, 3], HR: [5, 4], BG: [5, 5],
  MT: [6, 2], EL: [6, 5], CY: [6, 6],
};
// Viridis, sampled: share 0 -> dark purple, 1 -> yellow.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779',
  '#6ece58', '#b5de2b', '#fde725'];

function el(tag, attrs = {}, text) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

const pct = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${(100 * x).toFixed(1)} %`);
const years = (steps, perYear) => steps / perYear;

function shareColour(share) {
  if (share === null || share === undefined || Number.isNaN(share)) return '#dddddd';
  const i = Math.min(VIRIDIS.length - 1, Math.max(0, Math.round(share * (VIRIDIS.length - 1))));
  return VIRIDIS[i];
}

// The shipped map level that has every territory of the run, or null (then tiles).
function mapLevel(run) {
  const map = window.CSEI_MAP;
  if (!map) return null;
  for (const level of ['country', 'region']) {
    if (run.territories.every((t) => t.code in map.levels[level])) return level;
  }
  return null;
}

function stepShares(run, step) {
  const rows = run.innovations[0].territory_share_by_step;
  if (!rows || !rows.length) return run.innovations[0].territory_share;
  return rows[Math.min(step, rows.length - 1)];
}

// Generated territories (grids: codes such as G00003, named by their code) are shown by number,
// as their tiles are.
function territoryName(run, i) {
  const t = run.territories[i];
  return /^G[0-9]+$/.test(t.code) && t.name === t.code ? `Region ${i + 1}` : t.name;
}

function areaText(t, share, run, step) {
  const i = run.territories.indexOf(t);
  return `${i >= 0 ? territoryName(run, i) : t.name}: ${pct(share)} adopted in year ${years(step, run.steps_per_year).toFixed(1)} (${t.organisations.toLocaleString('en')} organisations)`;
}

function drawMap(run, title, opts) {
  const level = mapLevel(run);
  if (level) return drawShapeMap(run, title, level, opts);
  const codes = run.territories.map((t) => t.code);
  const eu = codes.every((c) => c in EU27_TILES);
  let cells;
  let rows;
  let cols;
  if (eu) {
    rows = 7; cols = 7;
    cells = codes.map((c) => EU27_TILES[c]);
  } else {
    cols = Math.ceil(Math.sqrt(codes.length));
    rows = Math.ceil(codes.length / cols);
    cells = codes.map((_, i) => [Math.floor(i / cols), i % cols]);
  }
  const size = eu ? 44 : Math.min(60, 300 / cols);
  const fig = el('figure', { class: eu ? 'map' : 'map small', 'data-run': run.id });
  const svg = el('svg:svg', {
    viewBox: `0 0 ${cols * size} ${rows * size}`, role: 'img',
    'aria-label': `${title}: adoption by region`, class: 'map-svg',
  });
  run.territories.forEach((t, i) => {
    const [r, c] = cells[i];
    const g = el('svg:g', { class: 'tile area', 'data-code': t.code, 'data-index': i, tabindex: 0 });
    g.append(el('svg:rect', {
      x: c * size + 1, y: r * size + 1, width: size - 2, height: size - 2, rx: 3,
    }));
    g.append(el('svg:text', {
      x: c * size + size / 2, y: r * size + size / 2 + 5, 'text-anchor': 'middle', class: 'tile-label',
    }, t.code.length > 4 ? String(i + 1) : t.code));
    g.append(el('svg:title'));
    svg.append(g);
  });
  fig.append(svg, el('figcaption', {}, title));
  hookAreas(fig, run, opts);
  return fig;
}

function drawShapeMap(run, title, level, opts) {
  const map = window.CSEI_MAP;
  const fig = el('figure', { class: 'map shapes', 'data-run': run.id, 'data-level': level });
  const svg = el('svg:svg', {
    viewBox: `0 0 ${map.width} ${map.height}`, role: 'group',
    'aria-label': `${title}: adoption by ${level}`, class: 'map-svg',
  });
  for (const box of map.insets[level]) {
    svg.append(el('svg:rect', { x: box.x, y: box.y, width: box.w, height: box.h, class: 'inset' }));
    svg.append(el('svg:text', { x: box.x + 6, y: box.y + box.h - 6, class: 'inset-label' }, box.label));
  }
  run.territories.forEach((t, i) => {
    const shape = map.levels[level][t.code];
    const path = el('svg:path', {
      d: shape.d, class: 'area', 'data-code': t.code, 'data-index': i, tabindex: 0, role: 'img',
    });
    path.append(el('svg:title'));
    svg.append(path);
  });
  if (level === 'region') svg.append(el('svg:path', { d: map.outlines, class: 'outline', 'aria-hidden': 'true' }));
  fig.append(svg, el('figcaption', {}, title));
  hookAreas(fig, run, opts);
  return fig;
}

// Hover and keyboard focus show a territory's value in the readout.
function hookAreas(fig, run, opts) {
  fig.querySelectorAll('.area').forEach((node) => {
    const show = () => {
      const i = Number(node.dataset.index);
      const step = opts.step(run);
      opts.readout(areaText(run.territories[i], stepShares(run, step)[i], run, step));
    };
    node.addEventListener('mouseenter', show);
    node.addEventListener('focus', show);
  });
}

// Colours one map (a figure from drawMap) at a step of its run.
function colourMap(fig, run, step) {
  const shares = stepShares(run, step);
  fig.querySelectorAll('.area').forEach((node) => {
    const i = Number(node.dataset.index);
    const share = shares[i];
    const fill = shareColour(share);
    const target = node.tagName.toLowerCase() === 'g' ? node.querySelector('rect') : node;
    target.setAttribute('fill', fill);
    node.dataset.share = share === null ? '' : share;
    const label = node.querySelector('text');
    if (label) label.setAttribute('fill', share === null || share > 0.6 ? '#000' : '#fff');
    const text = areaText(run.territories[i], share, run, step);
    node.querySelector('title').textContent = text;
    node.setAttribute('aria-label', text);
  });
}

// The colour scale under the maps (empty when no map is shown).
function drawScale(box, any) {
  box.replaceChildren();
  if (!any) return;
  box.append(el('span', {}, '0 %'));
  for (const c of VIRIDIS) box.append(el('span', { class: 'swatch', 'data-colour': c }));
  box.append(el('span', {}, '100 % adopted'));
  box.querySelectorAll('.swatch').forEach((s) => { s.style.background = s.dataset.colour; });
}

// The attribution line: shown when some map has shapes.
function drawAttribution(p, runs) {
  const shapes = runs.some((run) => mapLevel(run));
  p.hidden = !shapes;
  p.textContent = shapes ? `${window.CSEI_MAP.attribution}. Outermost regions in the boxes on the left, each at its own scale.` : '';
}

window.CseiMap = {
  VIRIDIS, shareColour, mapLevel, stepShares, territoryName, areaText, drawMap, colourMap,
  drawScale, drawAttribution,
};
})();
