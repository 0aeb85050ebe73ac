// Browser test of workshop mode: Debian's headless Chromium driven by playwright-core.
// Usage: WORKSHOP_URL=http://127.0.0.1:PORT/ SCREENSHOT=out.png node workshop.test.mjs
// (tests/workshop/test_browser.py starts the server and runs this.) Asserts on the data the
// page draws (the chart's lines carry their values), compared with the API's own answers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.WORKSHOP_URL;
const screenshot = process.env.SCREENSHOT || 'workshop.png';
assert.ok(url, 'set WORKSHOP_URL');
const origin = new URL(url).origin;

const profile = mkdtempSync(path.join(tmpdir(), 'csei-workshop-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 1000 },
  acceptDownloads: true,
});

const problems = [];
let step = 'start';
function check(name, fn) {
  step = name;
  return fn();
}

try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(origin)) problems.push(`request outside the server: ${r.url()}`);
  });
  page.setDefaultTimeout(15000);

  const api = async (body) => {
    const res = await page.request.post(`${url}api/run`, { data: body });
    assert.equal(res.status(), 200, await res.text());
    return res.json();
  };
  const lineValues = async (role) => JSON.parse(
    await page.locator(`#chart polyline.run-line[data-role="${role}"]`).getAttribute('data-values'));

  await check('load', async () => {
    await page.goto(url);
    await page.locator('body[data-ready="true"]').waitFor();
    assert.match(await page.title(), /workshop/);
    // Every control has a label.
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
      .filter((e) => e.labels.length === 0).map((e) => e.id));
    assert.deepEqual(unlabelled, []);
  });

  await check('first run with the scenario values', async () => {
    await page.selectOption('#scenario', 'clusters_matter');
    await page.locator('#p-peer_weight').waitFor();
    await page.click('#run');
    await page.locator('#status', { hasText: 'Run 1 done' }).waitFor();
    const expected = await api({
      scenario: 'clusters_matter',
      params: { peer_weight: 3, facilitation: 3, cost_subsidy: 0, pioneers: 10 },
      seed: 2,
    });
    assert.deepEqual(await lineValues('current'), expected.innovations[0].share);
    await page.click('#keep');
    // Kept and still current: one row, one line, one map (not the same run twice).
    await page.locator('#runs-table tbody tr[data-role="current"]', { hasText: 'kept' }).waitFor();
    assert.equal(await page.locator('#runs-table tbody tr').count(), 1);
    assert.equal(await page.locator('#chart polyline.run-line').count(), 1);
    assert.equal(await page.locator('#maps figure').count(), 1);
    assert.equal(await page.locator('#legend li').count(), 1);
  });

  await check('the members checkbox: only with clusters, its lines in the legend', async () => {
    assert.equal(await page.locator('#members-toggle').isVisible(), true);
    await page.check('#show-members');
    assert.equal(await page.locator('#chart polyline.members-line').count(), 2);
    assert.equal(await page.locator('#legend li.members-key').count(), 2);
    await page.uncheck('#show-members');
    await page.selectOption('#scenario', 'word_of_mouth');
    assert.equal(await page.locator('#members-toggle').isVisible(), false, 'no clusters here');
    await page.click('#run');
    await page.locator('#status', { hasText: 'Run 2 done' }).waitFor();
    // Grid territories are numbered on the tiles and in the text, never G00003.
    assert.equal(await page.locator('#maps figure g.tile text').first().textContent(), '1');
    await page.focus('#maps figure >> nth=0 >> g.tile >> nth=3');
    assert.match(await page.locator('#map-readout').textContent(), /^Region 4: /);
    assert.doesNotMatch(await page.locator('#results').textContent(), /G0000/);
    await page.selectOption('#scenario', 'clusters_matter');
  });

  await check('move sliders with the keyboard and run again', async () => {
    await page.focus('#p-peer_weight');
    for (let i = 0; i < 4; ++i) await page.keyboard.press('ArrowRight'); // 3 -> 5
    assert.equal(await page.locator('#o-peer_weight').textContent(), '5.0');
    await page.focus('#p-cost_subsidy');
    for (let i = 0; i < 10; ++i) await page.keyboard.press('ArrowRight'); // 0 -> 0.5
    assert.equal(await page.locator('#o-cost_subsidy').textContent(), '0.50');
    await page.focus('#run');
    await page.keyboard.press('Enter');
    await page.locator('#status', { hasText: 'Run 3 done' }).waitFor();

    const expected = await api({
      scenario: 'clusters_matter',
      params: { peer_weight: 5, facilitation: 3, cost_subsidy: 0.5, pioneers: 10 },
      seed: 2,
    });
    const current = await lineValues('current');
    const kept = await lineValues('kept');
    assert.deepEqual(current, expected.innovations[0].share, 'the chart shows the new run');
    assert.notDeepEqual(current, kept, 'the new run differs from the kept one');
    assert.ok(current.at(-1) > kept.at(-1), 'a subsidy and more peer weight: more adoption');

    // The table: this run and the kept one, with the API's numbers.
    const rows = page.locator('#runs-table tbody tr');
    assert.equal(await rows.count(), 2);
    const finalShare = Number(await page.locator('#runs-table tr[data-role="current"] td.final-share')
      .getAttribute('data-value'));
    assert.equal(finalShare, expected.innovations[0].summary.final_share);
    assert.match(await page.locator('#runs-table tr[data-role="current"]').textContent(),
      /Cluster peer weight: 5\.0; Cost subsidy \(share\): 0\.50/);
    // One map per run shown, four regions each.
    assert.equal(await page.locator('#maps figure').count(), 2);
    assert.equal(await page.locator('#maps figure').first().locator('g.tile').count(), 4);
  });

  await check('the EU scenario draws the EU-27 map from the shipped shapes', async () => {
    await page.selectOption('#scenario', 'eu_clusters');
    await page.click('#run');
    await page.locator('#status', { hasText: 'Run 4 done' }).waitFor();
    const data = await page.evaluate(() => window.workshop.runs.eu_clusters.current);
    const areas = page.locator('#maps figure').first().locator('path.area');
    assert.equal(await areas.count(), 27);
    assert.equal(await page.locator('#maps figure').first().getAttribute('data-level'), 'country');
    const de = data.territories.findIndex((t) => t.code === 'DE');
    const dePath = page.locator('#maps figure').first().locator('path.area[data-code="DE"]');
    assert.equal(Number(await dePath.getAttribute('data-share')), data.innovations[0].territory_share[de]);
    assert.deepEqual(await lineValues('current'), data.innovations[0].share);
    // No country is a handful of organisations.
    assert.ok(Math.min(...data.territories.map((t) => t.organisations)) >= 40);
    assert.match(await page.locator('#map-attribution').textContent(), /© EuroGeographics for the administrative boundaries/);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '_eu.png'), fullPage: true });
  });

  await check('the time slider scrubs the maps through the run', async () => {
    const data = await page.evaluate(() => window.workshop.runs.eu_clusters.current);
    const de = data.territories.findIndex((t) => t.code === 'DE');
    const fr = data.territories.findIndex((t) => t.code === 'FR');
    const slider = page.locator('#map-step');
    assert.equal(Number(await slider.getAttribute('max')), data.steps);
    await page.focus('#map-step');
    await page.keyboard.press('Home');
    for (let i = 0; i < 12; ++i) await page.keyboard.press('ArrowRight'); // step 12: year 1
    assert.equal(await page.locator('#map-year').textContent(), '1.0');
    const dePath = page.locator('#maps figure').first().locator('path.area[data-code="DE"]');
    const byStep = data.innovations[0].territory_share_by_step;
    assert.equal(byStep.length, data.steps + 1);
    assert.equal(Number(await dePath.getAttribute('data-share')), byStep[12][de]);
    assert.notEqual(byStep[12][de], byStep[data.steps][de]);
    // The value of a country on keyboard focus and on hover.
    await page.focus('#maps figure >> nth=0 >> path.area[data-code="FR"]');
    assert.match(await page.locator('#map-readout').textContent(),
      new RegExp(`^France: ${(100 * byStep[12][fr]).toFixed(1)} % adopted in year 1\\.0`));
    await dePath.hover();
    assert.match(await page.locator('#map-readout').textContent(), /^Germany: /);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '_slider.png'), fullPage: true });
    // Play runs to the end of the run.
    await page.click('#map-play');
    assert.equal(await page.locator('#map-play').getAttribute('aria-pressed'), 'true');
    await page.locator('#map-play[aria-pressed="false"]').waitFor();
    assert.equal(Number(await slider.inputValue()), data.steps);
    assert.equal(Number(await dePath.getAttribute('data-share')), byStep[data.steps][de]);
  });

  await check('export downloads the HDF5 file of this run', async () => {
    const href = await page.locator('#export').getAttribute('href');
    assert.match(href, /^\/api\/export\/r[0-9]+\.h5$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const file = path.join(profile, 'export.h5');
    await download.saveAs(file);
    const { readFileSync } = await import('node:fs');
    const head = readFileSync(file).subarray(0, 8);
    assert.deepEqual([...head], [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 'an HDF5 file');
  });

  await check('screenshot', async () => {
    await page.selectOption('#scenario', 'clusters_matter');
    await page.screenshot({ path: screenshot, fullPage: true });
  });

  step = 'problems';
  assert.deepEqual(problems, []);
  console.log(`browser test passed; screenshot: ${screenshot}`);
} catch (err) {
  console.error(`browser test failed at '${step}': ${err.stack || err}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
