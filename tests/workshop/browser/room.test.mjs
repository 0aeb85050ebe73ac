// Browser test of a workshop room (csei workshop --lan): two participants' pages and the
// trainer's, each in its own browser context (its own cookies), in Debian's headless Chromium.
// Usage: WORKSHOP_URL=http://127.0.0.1:PORT/ JOIN_CODE=... TRAINER_CODE=... SCREENSHOT=out.png
//   node room.test.mjs   (tests/workshop/test_browser.py starts the server and runs this.)
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const url = process.env.WORKSHOP_URL;
const joinCode = process.env.JOIN_CODE;
const trainerCode = process.env.TRAINER_CODE;
const screenshot = process.env.SCREENSHOT || 'trainer.png';
assert.ok(url && joinCode && trainerCode, 'set WORKSHOP_URL, JOIN_CODE and TRAINER_CODE');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
let step = 'start';
async function check(name, fn) {
  step = name;
  return fn();
}
async function open(path, viewport = { width: 1280, height: 720 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.setDefaultTimeout(15000);
  await page.goto(new URL(path, url).href);
  return page;
}

try {
  const trainer = await check('the trainer view needs its code', async () => {
    const refused = await open('/trainer');
    assert.match(await refused.locator('body').textContent(), /trainer code/);
    await refused.context().close();
    const page = await open(`/trainer?code=${trainerCode}`);
    await page.locator('#qr svg path').waitFor();
    assert.match(await page.locator('#join-url').textContent(), new RegExp(`\\?code=${joinCode}$`));
    return page;
  });

  const join = async (name) => {
    const page = await open(`/?code=${joinCode}`, { width: 400, height: 800 }); // a phone
    await page.locator('body[data-ready="true"]').waitFor();
    assert.equal(await page.locator('#join').isVisible(), true, 'asked for a name');
    assert.equal(await page.locator('#run').isDisabled(), true, 'no run before joining');
    await page.fill('#join-name', name);
    await page.click('#join button');
    await page.locator('#who', { hasText: `You are ${name}.` }).waitFor();
    assert.equal(await page.locator('#join').isVisible(), false);
    return page;
  };
  const a = await check('group A joins', () => join('Group A'));
  const b = await check('group B joins', () => join('Group B'));

  const runOn = async (page, n) => {
    await page.click('#run');
    await page.locator('#status', { hasText: `Run ${n} done` }).waitFor();
    return page.evaluate(() => window.workshop.runs[window.workshop.scenario.id].current);
  };

  await check('both groups run; the trainer sees both', async () => {
    await a.selectOption('#scenario', 'word_of_mouth');
    const runA = await runOn(a, 1);
    await b.selectOption('#scenario', 'word_of_mouth');
    await b.focus('#p-word_of_mouth');
    for (let i = 0; i < 5; ++i) await b.keyboard.press('ArrowRight');
    const runB = await runOn(b, 1);
    assert.equal(runA.who, 'Group A');
    assert.equal(runB.who, 'Group B');
    await trainer.locator(`#class-table tr[data-run="${runA.id}"]`, { hasText: 'Group A' }).waitFor();
    await trainer.locator(`#class-table tr[data-run="${runB.id}"]`, { hasText: 'Group B' }).waitFor();
    assert.equal(await trainer.locator('#chart polyline[data-who="Group A"]').count(), 1);
    assert.equal(await trainer.locator('#chart polyline[data-who="Group B"]').count(), 1);
    const people = await trainer.locator('#people').textContent();
    assert.match(people, /Group A: 1 run, connected/);
    assert.match(people, /Group B: 1 run, connected/);
    // Group A keeps its run and runs again: the trainer shows the kept and the latest.
    await a.click('#keep');
    await runOn(a, 2);
    await trainer.locator('#class-table tbody tr', { hasText: '(kept)' }).waitFor();
    assert.equal(await trainer.locator('#chart polyline[data-who="Group A"]').count(), 2);
  });

  await check("the trainer picks a run in the table and sees its map over time", async () => {
    assert.equal(await trainer.locator('#maps figure').count(), 0, 'no map before a choice');
    assert.equal(await trainer.locator('#map-step').isDisabled(), true);
    const rows = await trainer.evaluate(() => window.trainer.state.runs.filter((r) => r.who === 'Group B'));
    const runB = rows[rows.length - 1];
    await trainer.click(`#class-table tr[data-run="${runB.id}"] button.show-map`);
    const fig = trainer.locator(`#maps figure[data-run="${runB.id}"]`);
    await fig.waitFor();
    assert.match(await fig.locator('figcaption').textContent(), /Group B/);
    assert.equal(await trainer.locator(`#class-table tr[data-run="${runB.id}"] button.show-map`).getAttribute('aria-pressed'), 'true');
    // The same map as the participant's page: one area per territory, coloured at the last step.
    const data = await b.evaluate((id) => {
      const r = window.workshop.runs.word_of_mouth;
      const run = [r.current, r.previous, ...r.kept].find((x) => x && x.id === id);
      return { steps: run.steps, byStep: run.innovations[0].territory_share_by_step };
    }, runB.id);
    const areas = fig.locator('.area');
    assert.equal(await areas.count(), data.byStep[0].length);
    const shares = async () => (await areas.evaluateAll((ns) => ns.map((n) => Number(n.dataset.share))));
    const close = (got, want) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `area ${i}: ${g} vs ${want[i]}`));
    close(await shares(), data.byStep[data.steps]);
    assert.equal(await trainer.locator('#map-step').getAttribute('max'), String(data.steps));
    // The time slider colours it at an earlier step.
    await trainer.locator('#map-step').fill('3');
    await trainer.locator('#map-year', { hasText: (3 / 12).toFixed(1) }).waitFor();
    close(await shares(), data.byStep[3]);
    // It stays while the view polls, and hovering an area reads its value out.
    await trainer.waitForTimeout(2300);
    assert.equal(await trainer.locator(`#maps figure[data-run="${runB.id}"]`).count(), 1);
    close(await shares(), data.byStep[3]);
    await areas.first().hover();
    assert.match(await trainer.locator('#map-readout').textContent(), /adopted in year 0\.3/);
  });

  await check('a locked slider cannot be moved', async () => {
    await trainer.selectOption('#room-scenario', 'word_of_mouth');
    await trainer.check('#lock-word_of_mouth');
    const slider = b.locator('#p-word_of_mouth');
    await b.locator('#p-word_of_mouth:disabled').waitFor();
    const scenario = await b.evaluate(() => window.workshop.catalogue.scenarios
      .find((s) => s.id === 'word_of_mouth').sliders.find((s) => s.name === 'word_of_mouth').value);
    assert.equal(Number(await slider.inputValue()), scenario, 'back at the scenario value');
    // Neither the keyboard nor the mouse moves it.
    await b.keyboard.press('Tab');
    await slider.focus();
    for (let i = 0; i < 3; ++i) await b.keyboard.press('ArrowRight');
    const box = await slider.boundingBox();
    await b.mouse.click(box.x + box.width - 2, box.y + box.height / 2, { force: true });
    assert.equal(Number(await slider.inputValue()), scenario);
    assert.match(await b.locator('label[for="p-word_of_mouth"]').textContent(), /locked by the trainer/);
    // The room's scenario is fixed on the page.
    assert.equal(await b.locator('#scenario').isDisabled(), true);
    // And the server refuses a run that moves it anyway.
    const res = await b.request.post(new URL('/api/run', url).href,
      { data: { scenario: 'word_of_mouth', params: { word_of_mouth: 2.5 } } });
    assert.equal(res.status(), 403);
    const run = await runOn(b, 2);
    assert.equal(run.params.word_of_mouth, scenario);
  });

  await check('the trainer reveals the class: participants see every group', async () => {
    assert.equal(await a.locator('#class-runs').isVisible(), false);
    await trainer.check('#reveal');
    await a.locator('#class-runs tbody tr', { hasText: 'Group B' }).first().waitFor();
    assert.ok(await a.locator('#class-runs tbody tr', { hasText: 'Group A' }).count() >= 2);
  });

  await check('a challenge: the trainer sets it, participants read it, the view ranks groups', async () => {
    await trainer.fill('#goal-share', '50');
    await trainer.fill('#goal-years', '4');
    await trainer.fill('#budget', '2000000');
    await trainer.click('#challenge-set');
    await trainer.locator('#ranking-table tbody tr').first().waitFor();
    assert.match(await trainer.locator('#ranking-title').textContent(), /50 % adopted within 4 years, budget €2,000,000/);
    assert.equal(await trainer.locator('#ranking-table tbody tr').count(), 2, 'both groups ranked');
    await a.locator('#who', { hasText: 'Challenge: 50 % adopted within 4 years' }).waitFor();
  });

  step = 'screenshot';
  await trainer.waitForTimeout(2500); // the next poll draws the last run
  await trainer.screenshot({ path: screenshot, fullPage: true });
  await b.screenshot({ path: screenshot.replace(/\.png$/, '_participant.png'), fullPage: true });
  step = 'problems';
  assert.deepEqual(problems, []);
  console.log(`room browser test passed; screenshot: ${screenshot}`);
} catch (err) {
  console.error(`room browser test failed at '${step}': ${err.stack || err}`);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
