import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { main, type ExperimentResults } from '@odemor/core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
/** Full-page screenshots land here (git-ignored), one PNG per report. */
const artifacts = path.resolve(here, '..', 'artifacts');

const INSTALL = 'install it with `apt-get update && apt-get install -y chromium` (Debian/Ubuntu, as root) or point CHROMIUM_PATH at a Chromium or Chrome binary';

/** The Chromium binary: `CHROMIUM_PATH`, else `chromium` / `chromium-browser` / `google-chrome` on the PATH. */
function findChromium(): string {
  const env = process.env.CHROMIUM_PATH;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`CHROMIUM_PATH=${env} does not exist; ${INSTALL}`);
    return env;
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on the PATH; try the next name
    }
  }
  throw new Error(`headless Chromium not found (the report browser test needs it; playwright-core downloads no browser): ${INSTALL}`);
}

/** The committed reports: every results/<name>/report.html. */
const committed = fs
  .readdirSync(path.join(repoRoot, 'results'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(repoRoot, 'results', d.name, 'report.html')))
  .map((d) => d.name)
  .sort();

/**
 * The quickstart (configs/quickstart.yaml) with the same sections, plugins and every reducer, shrunk to run in a
 * few seconds: fewer samples, a narrower block, two epochs, two dimensions per reducer, one timing repeat.
 */
function quickstartConfig(dir: string): string {
  const cfg = parse(fs.readFileSync(path.join(repoRoot, 'configs', 'quickstart.yaml'), 'utf8')) as {
    dataset: Record<string, unknown>;
    model: Record<string, unknown>;
    train: Record<string, unknown>;
    reducers: { use: string; dims: number[] }[];
    evaluate: Record<string, unknown>;
    report: { use: string };
  };
  expect(cfg.report.use, 'configs/quickstart.yaml: report.use').toBe('html');
  cfg.dataset.train = 300;
  cfg.dataset.test = 200;
  cfg.model.hidden = 12;
  cfg.train.epochs = 2;
  cfg.reducers = cfg.reducers.map((r) => ({ ...r, dims: [4, 8] }));
  cfg.evaluate.repeats = 1;
  const file = path.join(dir, 'quickstart.yaml');
  fs.writeFileSync(file, stringify(cfg));
  return file;
}

/** Run the CLI in-process (as test/e2e does); returns the exit code and the captured stderr. */
async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let e = '';
  out.resume();
  err.on('data', (d) => (e += d));
  const code = await main(args, { out: out as unknown as NodeJS.WriteStream, err: err as unknown as NodeJS.WriteStream });
  return { code, err: e };
}

/** What the page shows, measured in Chromium. */
interface Rendered {
  figures: { href: string | null; plots: { tag: string; width: number; height: number; content: number; loaded: boolean }[] }[];
  /** plots outside a figure (the report puts every plot in one) */
  stray: number;
  tables: { head: string[]; rows: number; widths: number[] }[];
  text: string;
  /** how far the page is wider than the window (a horizontal scroll bar) */
  overflow: number;
}

/** The plots the report's results list (results.json `files`), else what its plots/ folder holds. */
function expectedPlots(dir: string, res: ExperimentResults): string[] {
  const listed = (res as { files?: string[] }).files;
  const files = listed ?? fs.readdirSync(path.join(dir, 'plots')).map((f) => `plots/${f}`);
  return files.filter((f) => /^plots\/.+\.svg$/.test(f)).sort();
}

let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  // --no-sandbox: Chromium's sandbox refuses to start as root (CI containers); the pages are our own local files
  browser = await chromium.launch({ executablePath: findChromium(), args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
});

/**
 * Open one report from disk and check it: no console errors, page errors or failed requests, nothing loaded
 * but the page itself (it is self-contained); every plot listed in the results inline in a figure with a non-zero
 * rendered size and drawn content, its SVG link present on disk; every table with a header and body rows (the
 * results table one per results row, the comparison table one per compared row), each as wide as its header.
 * Saves a full-page screenshot under test/browser/artifacts/.
 */
async function checkReport(name: string, dir: string): Promise<void> {
  const res = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as ExperimentResults;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed request: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('request', (r) => requests.push(r.url()));
  try {
    const url = pathToFileURL(path.join(dir, 'report.html')).href;
    await page.goto(url, { waitUntil: 'load' });
    const shown = await page.evaluate((): Rendered => {
      const size = (el: Element) => el.getBoundingClientRect();
      const plotsIn = (root: ParentNode) => [...root.querySelectorAll('svg, img, canvas')].filter((el) => !el.parentElement?.closest('svg'));
      const figures = [...document.querySelectorAll('figure')].map((f) => ({
        href: f.querySelector('figcaption a')?.getAttribute('href') ?? null,
        plots: plotsIn(f).map((el) => {
          const r = size(el);
          // drawn content: an SVG's bounding box of what it draws, an image's pixels, a canvas's bitmap
          const content =
            el instanceof SVGSVGElement ? el.getBBox().width * el.getBBox().height : el instanceof HTMLImageElement ? el.naturalWidth * el.naturalHeight : (el as HTMLCanvasElement).width * (el as HTMLCanvasElement).height;
          return { tag: el.tagName.toLowerCase(), width: r.width, height: r.height, content, loaded: el instanceof HTMLImageElement ? el.complete && el.naturalWidth > 0 : true };
        }),
      }));
      const stray = plotsIn(document).filter((el) => !el.closest('figure')).length;
      const tables = [...document.querySelectorAll('table')].map((t) => ({
        head: [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? ''),
        rows: t.querySelectorAll('tbody tr').length,
        widths: [...t.querySelectorAll('tbody tr')].map((tr) => tr.querySelectorAll('td').length),
      }));
      const overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
      return { figures, stray, tables, text: document.body.innerText, overflow };
    });
    const shot = path.join(artifacts, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`report ${name}: ${shown.figures.length} plots, ${shown.tables.length} tables; screenshot ${shot}`);

    expect(problems, `${name}: console / page errors and failed requests`).toEqual([]);
    expect(requests, `${name}: the page loads nothing but itself`).toEqual([url]);
    expect(shown.text, `${name}: the page names the experiment`).toContain(res.name);
    expect(shown.overflow, `${name}: the page is wider than a 1280 px window by`).toBe(0);
    expect(shown.text, `${name}: no unformatted values`).not.toMatch(/\bundefined\b|\bNaN\b|\[object Object\]/);

    // every plot the run wrote, inline in a figure, drawn, with its SVG file next to the report
    const plots = expectedPlots(dir, res);
    expect(plots.length, `${name}: plots in results.json`).toBeGreaterThan(0);
    expect(shown.figures.map((f) => f.href).sort(), `${name}: one figure per plot`).toEqual(plots);
    expect(shown.stray, `${name}: plots outside a figure`).toBe(0);
    for (const f of shown.figures) {
      expect(f.plots.length, `${name}: ${f.href}: plots in the figure`).toBe(1);
      for (const p of f.plots) {
        expect(p.width, `${name}: ${f.href}: rendered width`).toBeGreaterThan(0);
        expect(p.height, `${name}: ${f.href}: rendered height`).toBeGreaterThan(0);
        expect(p.content, `${name}: ${f.href}: drawn content`).toBeGreaterThan(0);
        expect(p.loaded, `${name}: ${f.href}: image loaded`).toBe(true);
      }
      expect(fs.statSync(path.join(dir, f.href!)).size, `${name}: ${f.href} on disk`).toBeGreaterThan(0);
    }

    // tables: the results table last with one row per results row; before it a comparison's table, then the
    // adaptive-solver and stiffness table (evaluate.adaptive) with one row per measured row
    const compared = res.rows.filter((r) => r.stage === 'compared').length;
    const adaptive = res.rows.filter((r) => r.adaptive?.length || r.stiffness).length;
    expect(shown.tables.length, `${name}: tables`).toBe((compared ? 1 : 0) + (adaptive ? 1 : 0) + 1);
    for (const [i, t] of shown.tables.entries()) {
      expect(t.head.length, `${name}: table ${i + 1} header`).toBeGreaterThan(0);
      expect(t.rows, `${name}: table ${i + 1} body rows`).toBeGreaterThan(0);
      expect(new Set(t.widths), `${name}: table ${i + 1} cells per row`).toEqual(new Set([t.head.length]));
    }
    expect(shown.tables.at(-1)!.rows, `${name}: results table rows against results.json`).toBe(res.rows.length);
    if (compared) expect(shown.tables[0]!.rows, `${name}: comparison table rows against results.json`).toBe(compared);
    if (adaptive) expect(shown.tables.at(-2)!.rows, `${name}: adaptive table rows against results.json`).toBe(adaptive);

    expect(fs.statSync(shot).size, `${name}: screenshot`).toBeGreaterThan(10_000);
  } finally {
    await page.close();
  }
}

describe('report.html in headless Chromium', () => {
  it("the quickstart's report (a shrunk run into a temp folder)", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'odemor-browser-'));
    const out = path.join(tmp, 'out');
    const r = await cli(['run', quickstartConfig(tmp), '--out', out, '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.err, 'the run writes no errors').not.toMatch(/odemor: (?!warning)/);
    await checkReport('quickstart', out);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('finds the committed reports', () => {
    expect(committed.length).toBeGreaterThan(0);
  });

  it.each(committed)('results/%s/report.html', async (name) => {
    await checkReport(name, path.join(repoRoot, 'results', name));
  });
});
