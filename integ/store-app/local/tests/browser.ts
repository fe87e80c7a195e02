import { strict as assert } from 'assert';
import { existsSync, mkdirSync } from 'fs';
import { join } from 'path';
import { chromium } from 'playwright-core';
import { test, TestCase } from '../harness';
import { http } from '../http';
import { LocalStack, REPO_ROOT } from '../stack';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(REPO_ROOT, 'test-artifacts', 'store.png');

/** Headless Chromium loads the store through NGINX, sees the products and their images, and buys one. */
export function browserTests(stack: LocalStack): TestCase[] {
  return [
    test('browser: product grid with images, purchase, confirmation (screenshot test-artifacts/store.png)', async () => {
      assert.ok(existsSync(CHROMIUM_PATH), `${CHROMIUM_PATH} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
      const browser = await chromium.launch({
        executablePath: CHROMIUM_PATH,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
          '--no-first-run', '--disable-component-update', '--disable-sync'],
        timeout: 60_000,
      });
      stack.resources.defer(() => browser.close().catch(() => undefined));
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        page.on('console', (msg) => {
          if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
        });
        page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
        page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));

        await page.goto(stack.url, { waitUntil: 'load' });
        const cards = page.getByTestId('product-card');
        await cards.nth(5).waitFor({ state: 'visible', timeout: 15_000 });
        assert.equal(await cards.count(), 6, 'six products');

        // Every image is loaded (decoded with a size) and has a text alternative.
        await page.waitForFunction(() => {
          const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="product-card"] img'));
          return imgs.length === 6 && imgs.every((i) => i.complete && i.naturalWidth > 0);
        }, undefined, { timeout: 15_000 });
        const images = await page.$$eval('[data-testid="product-card"] img', (imgs) =>
          imgs.map((i) => ({ src: i.getAttribute('src'), alt: i.getAttribute('alt'), width: (i as HTMLImageElement).naturalWidth })));
        for (const img of images) {
          assert.match(img.src ?? '', /^\/api\/products\/[a-z-]+\/image$/);
          assert.ok(img.alt && img.alt.length > 0, `alt text for ${img.src}`);
          assert.ok(img.width > 0, `${img.src} decoded`);
        }

        const stockBefore = (await http(`${stack.url}/api/products/bottle`)).json.stock as number;
        await page.getByTestId('choose-bottle').click();
        await page.getByLabel('Quantity').fill('2');
        await page.getByLabel('E-mail').fill('browser@example.com');
        await page.getByRole('button', { name: 'Place order' }).click();

        const orderId = page.getByTestId('order-id');
        await orderId.waitFor({ state: 'visible', timeout: 15_000 });
        const id = (await orderId.textContent())?.trim() ?? '';
        assert.match(id, /^[0-9a-f-]{36}$/, 'order id shown');
        assert.equal(await page.getByTestId('order-confirmation').getAttribute('aria-live'), 'polite');
        await page.getByTestId('stock-bottle').filter({ hasText: `${stockBefore - 2} in stock` }).waitFor({ timeout: 10_000 });

        const order = await http(`${stack.url}/api/orders/${id}`);
        assert.equal(order.status, 200);
        assert.equal(order.json.productId, 'bottle');
        assert.equal(order.json.quantity, 2);
        assert.equal(order.json.email, 'browser@example.com');

        mkdirSync(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
        assert.deepEqual(problems, [], 'no console errors or failed requests');
      } finally {
        await browser.close();
      }
    }, 120_000),
  ];
}
