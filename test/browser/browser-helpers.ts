import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../bench/lib/service-process';

/** Screenshots of each final state, kept as a CI artifact (gitignored). */
export const RESULTS_DIR = path.join(ROOT, 'test-results');

/**
 * Debian's Chromium (the `chromium` package), found on PATH. Nothing is ever downloaded: without it
 * the browser tests stop with a message saying what to install.
 */
export function chromiumPath(): string {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found on PATH: install Debian\'s package (apt-get install -y chromium); the tests never download a browser');
  }
}

export interface BrowserSession {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * One headless Chromium; playwright gives each launch a fresh temporary profile (user-data-dir) and
 * each test opens its own context (its own storage).
 */
export async function launchBrowser(): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

export async function newPage(session: BrowserSession): Promise<{ context: BrowserContext; page: Page }> {
  const context = await session.browser.newContext({ viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  // What the page logged: printed when a test fails, to say why.
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
  pageLogs.set(page, log);
  return { context, page };
}

const pageLogs = new WeakMap<Page, string[]>();

/** The page's console messages, errors and failed requests so far. */
export function pageLog(page: Page): string[] {
  return pageLogs.get(page) ?? [];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `checkout-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits (bounded, generous: the machine is shared) for the status region to show `word`; returns its text. */
export async function statusShowing(page: Page, word: string): Promise<string> {
  const status = page.getByRole('status').filter({ hasText: word });
  await status.waitFor({ timeout: 120_000 });
  return status.innerText();
}

/** The page's demo customer token, to check through the API what the page did. */
export async function pageToken(page: Page): Promise<string> {
  return page.evaluate(() => {
    const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
    return JSON.parse(storage.getItem('checkout.token') ?? '{}').token as string;
  });
}

export interface ApiPayment {
  id: string;
  status: string;
  payment_method: string | null;
  provider_payment_id: string;
  failure_message: string | null;
}

/** The demo user's payments, as the API (the database) has them. */
export async function paymentsOf(baseUrl: string, token: string): Promise<ApiPayment[]> {
  const res = await fetch(`${baseUrl}/v1/payments?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /v1/payments answered ${res.status}`);
  return ((await res.json()) as { data: ApiPayment[] }).data;
}

export async function historyOf(baseUrl: string, token: string, paymentId: string): Promise<Array<{ from: string | null; to: string; source: string }>> {
  const res = await fetch(`${baseUrl}/v1/payments/${paymentId}/history`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { data: Array<{ from: string | null; to: string; source: string }> }).data;
}
