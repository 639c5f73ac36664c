// A host page with a deliberately hostile stylesheet (issue #22): its element rules
// (headings, p, a, button, input, select, table, th, td, label, `* { box-sizing }`)
// must not restyle the app, with or without `shadow`, in either theme; the app's
// styles must not leak out; and text keeps its contrast.
import { test, expect } from '@playwright/test';
import { createRequire } from 'node:module';
import { startServers } from './support.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let servers;
test.beforeAll(async () => { servers = await startServers({ base: '/tools/fa/' }); });
test.afterAll(async () => servers?.close());

const HOSTILE = `
  * { box-sizing: content-box; }
  h1, h2, h3, h4 { font-family: "Comic Sans MS", cursive; color: #ccc; text-transform: uppercase; letter-spacing: 3px; margin: 40px 0; }
  p { margin: 30px 0; line-height: 3; color: #999; font-style: italic; }
  a { color: red; text-decoration: none; }
  button { text-transform: uppercase; font-size: 22px; border: 4px solid red; background: yellow; padding: 20px; }
  input, select { border: 3px dashed red; padding: 12px; font-size: 20px; }
  table { border: 5px solid green; border-collapse: separate; }
  th, td { padding: 15px; border: 2px dotted blue; text-align: right; }
  label { display: block; font-weight: bold; text-transform: uppercase; }
`;

/** The app elements compared, on the project list and on a project's Data step. */
const LIST = ['.fa-title', '[data-testid=projects-view] h2', '[data-testid=sample-offer] h3', '[data-testid=sample-offer] p',
  '[data-testid=create-sample]', '[data-testid=project-name]', '.fa-field'];
const DATA = ['[data-testid=data-view] h2', '[data-testid=dataset-summary] table', '[data-testid=dataset-summary] th',
  '[data-testid=dataset-summary] td', '[data-testid=gold-attribute-col]', '.fa-stepper__step', '[data-testid=nav-projects]'];
const PROPS = ['font-family', 'font-size', 'font-weight', 'font-style', 'text-transform', 'letter-spacing', 'line-height',
  'color', 'background-color', 'margin-top', 'margin-bottom', 'padding-top', 'padding-left', 'border-top-width',
  'border-top-style', 'border-top-color', 'border-collapse', 'box-sizing', 'text-align', 'text-decoration-line', 'display'];

/** Computed styles of `selectors` (the first match each) inside the app, wherever its root is. */
function styles(page, selectors) {
  return page.evaluate(([sels, props]) => {
    const host = document.querySelector('fannotate-app');
    const root = host?.shadowRoot ?? document;
    const out = {};
    for (const s of sels) {
      const el = root.querySelector(`.fa-app ${s}`);
      if (!el) { out[s] = 'missing'; continue; }
      const cs = getComputedStyle(el);
      out[s] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
    }
    return out;
  }, [selectors, PROPS]);
}

/** The project list's and the sample project's Data step's styles, in `page` showing the app. */
async function both(page) {
  const app = (id) => page.getByTestId(id);
  await expect(app('sample-offer')).toBeVisible();
  const list = await styles(page, LIST);
  await app('create-sample').click();
  await expect(app('dataset-rows')).toHaveText('300');
  await expect(app('gold-attribute-col')).toBeVisible();
  return { list, data: await styles(page, DATA) };
}

/**
 * A host page with the hostile stylesheet and a `<fannotate-app>` (with `attrs`),
 * routed at `hostile.html`; `waitUntil` as for `goto`.
 */
async function hostilePage(context, { attrs = 'persistence-key="hostile" theme="auto"', waitUntil = 'load' } = {}) {
  const host = await context.newPage();
  const url = `${servers.web.url}hostile.html`;
  await host.route(url, (r) => r.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><style>${HOSTILE}</style>
      <script type="module" src="./fannotate-element.js"></script></head>
      <body><h1 id="host-h1">Host tool</h1><fannotate-app ${attrs}></fannotate-app></body></html>`,
  }));
  await host.goto(url, { waitUntil });
  return host;
}

for (const scheme of ['light', 'dark']) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    test(`the host's element rules do not reach the app, with or without shadow (${scheme})`, async ({ browser }) => {
      const standalone = await browser.newContext({ colorScheme: scheme });
      const page = await standalone.newPage();
      await page.goto(servers.web.url);
      const want = await both(page);
      await standalone.close();
      for (const shadow of [false, true]) {
        const context = await browser.newContext({ colorScheme: scheme });
        const host = await hostilePage(context, { attrs: `persistence-key="hostile" theme="auto"${shadow ? ' shadow' : ''}` });
        expect(await both(host), `shadow: ${shadow}`).toEqual(want);
        // Nothing of the app's leaks out: the host's heading keeps its own rules.
        expect(await host.locator('#host-h1').evaluate((el) => [getComputedStyle(el).fontFamily, getComputedStyle(el).textTransform]))
          .toEqual(['"Comic Sans MS", cursive', 'uppercase']);
        // And the app's text keeps its contrast on the hostile page.
        await host.addScriptTag({ path: AXE });
        const contrast = await host.evaluate(async () => {
          const r = await window.axe.run({ exclude: [['#host-h1']] }, { runOnly: { type: 'rule', values: ['color-contrast'] } });
          return r.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`));
        });
        expect(contrast, `shadow: ${shadow}`).toEqual([]);
        await context.close();
      }
    });
  });
}


test('the element mounts the app only once its stylesheet has loaded', async ({ browser }) => {
  const context = await browser.newContext();
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await context.route('**/app.css', async (r) => { await released; await r.continue(); });
  // Not "load": the page's load event waits for a held stylesheet.
  const host = await hostilePage(context, { attrs: 'persistence-key="css-wait" shadow', waitUntil: 'domcontentloaded' });
  // The shim's load() resolves once the wasm is ready; without the wait the app would
  // be in the element's shadow root by the time this continuation runs.
  const mountedEarly = await host.evaluate(async () => {
    const m = await import('./fannotate-element.js');
    await m.load();
    await new Promise((r) => setTimeout(r, 0));
    return !!document.querySelector('fannotate-app').shadowRoot?.querySelector('.fa-app');
  });
  expect(mountedEarly).toBe(false);
  release();
  await host.evaluate(() => document.querySelector('fannotate-app').ready);
  const font = await host.evaluate(() => getComputedStyle(document.querySelector('fannotate-app').shadowRoot.querySelector('.fa-app')).fontFamily);
  expect(font).toContain('system-ui');
  await context.close();
});

test('a stylesheet that does not load is reported, not shown unstyled', async ({ browser }) => {
  const context = await browser.newContext();
  await context.route('**/app.css', (r) => r.fulfill({ status: 404, body: 'gone' }));
  // Not "load": the page's load event waits for a held stylesheet.
  const host = await hostilePage(context, { attrs: 'persistence-key="css-wait" shadow', waitUntil: 'domcontentloaded' });
  const outcome = await host.evaluate(() => document.querySelector('fannotate-app').ready.then(() => 'ready', (e) => e.message));
  expect(outcome).toMatch(/stylesheet did not load from .*app\.css/);
  expect(await host.evaluate(() => !!document.querySelector('fannotate-app').shadowRoot?.querySelector('.fa-app'))).toBe(false);
  await context.close();
});
