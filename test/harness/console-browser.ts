import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * The operator console in a real browser: Debian's Chromium driven by playwright-core, which
 * downloads no browser of its own. `npm test` installs the package first when it may
 * (scripts/ensure-chromium.ts); CHROMIUM_PATH points elsewhere. Screenshots land in
 * test-results/console/.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const SHOTS = path.resolve(__dirname, '..', '..', 'test-results', 'console');
const VIEWPORT = { width: 1360, height: 900 };

// No sandbox: the tests run as root. The rest keeps Chromium from calling out past the loopback.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ConsoleBrowser {
  browser: Browser;
  /** The page a test drives, at the console's viewport. */
  page: Page;
  /** Another page at the same viewport (the Temporal UI behind a workflow link). */
  newPage(): Promise<Page>;
  /**
   * Content-Security-Policy violations in the console's own documents (main frames of the pages
   * opened here), as `<directive> <blocked URI> <source>:<line>`: the console must need none.
   */
  cspViolations: string[];
  /** A full-page screenshot of `target` (the main page by default) as test-results/console/<name>.png. */
  shot(name: string, target?: Page): Promise<void>;
  close(): Promise<void>;
}

export async function openConsoleBrowser(options: { acceptDownloads?: boolean } = {}): Promise<ConsoleBrowser> {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const cspViolations: string[] = [];
  const newPage = async () => {
    const p = await browser.newPage({ viewport: VIEWPORT, ...options });
    await p.exposeBinding('__reportCspViolation', ({ frame }, text: string) => {
      // A mail body's frame refuses the mail's own inline styles by design: only the console counts.
      if (frame === p.mainFrame()) cspViolations.push(text);
    });
    // Runs in the browser (the test build has no DOM types, hence a string).
    await p.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
      window.__reportCspViolation(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber))`);
    return p;
  };
  const page = await newPage();
  return {
    browser,
    page,
    newPage,
    cspViolations,
    shot: async (name, target = page) => {
      await target.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    },
    close: () => browser.close(),
  };
}

/** Signs in on the console's login page with an API key and waits until it has moved on. */
export async function logIn(page: Page, apiUrl: string, apiKey: string): Promise<void> {
  await page.goto(`${apiUrl}/console/`);
  await page.waitForURL(/#\/login$/);
  await page.fill('#key', apiKey);
  await page.click('button[type=submit]');
  await page.waitForURL((url) => !url.hash.includes('login'));
}
