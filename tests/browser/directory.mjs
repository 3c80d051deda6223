// The public directory in a real browser (Debian's chromium, driven by Playwright), with the
// network cut off: a visitor searches, filters, reads the result cards with their tier badges,
// moves through the form with the keyboard and opens a profile with its stories. Each page is
// photographed at desktop and phone width into the artifacts directory.
//   node directory.mjs http://127.0.0.1:PORT <artifacts dir>
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, artifacts] = process.argv.slice(2);
if (!base || !artifacts) {
  console.error('usage: node directory.mjs <server origin> <artifacts dir>');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const fail = (message) => {
  console.error(`FAIL ${message}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    // No JavaScript at all: the pages must work without it.
    const context = await browser.newContext({ viewport, javaScriptEnabled: false });
    const outside = [];
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested.startsWith(`${base}/`)) return route.continue();
      outside.push(requested);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();

    const response = await page.goto(`${base}/partners`, { waitUntil: 'load' });
    const csp = response.headers()['content-security-policy'] || '';
    if (!csp.includes("default-src 'none'") || csp.includes('script-src')) fail(`not a strict policy: ${csp}`);
    if ((await page.locator('h1').innerText()) !== 'Find a partner') fail('no page heading');
    // Every field has a label the screen reader reads.
    const unlabelled = await page.$$eval('form.search input, form.search select', (fields) =>
      fields.filter((f) => !f.id || !document.querySelector(`label[for="${f.id}"]`)).map((f) => f.name));
    if (unlabelled.length) fail(`fields without a label: ${unlabelled}`);
    const all = await page.locator('ol.results > li').count();
    if (all < 10) fail(`the first page shows ${all} partners`);
    if (!(await page.locator('a[rel=next]').count())) fail('no next page link with more than ten partners');
    await page.screenshot({ path: `${artifacts}/partners-${name}.png`, fullPage: true });

    // The keyboard reaches the search field first after the skip link and the navigation.
    await page.keyboard.press('Tab');
    if ((await page.evaluate(() => document.activeElement?.textContent)) !== 'Skip to the content') {
      fail('the first Tab does not reach the skip link');
    }
    await page.getByLabel('Search by name, city, expertise or product').fill('voice');
    await page.getByLabel('Search by name, city, expertise or product').press('Enter');
    await page.waitForURL(/q=voice/);
    const names = await page.locator('ol.results > li h3 a').allInnerTexts();
    if (names[0] !== 'Alpine Voice AG') fail(`"voice" finds ${names}`);
    const badge = await page.locator('ol.results > li').first().locator('.badge').innerText();
    if (badge !== 'Gold') fail(`Alpine's badge reads ${badge}`);
    if ((await page.getByLabel('Search by name, city, expertise or product').inputValue()) !== 'voice') {
      fail('the search field lost what the visitor typed');
    }
    await page.screenshot({ path: `${artifacts}/partners-search-${name}.png`, fullPage: true });

    await page.getByLabel('Country').selectOption('DE');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/country=DE/);
    const german = await page.locator('ol.results > li .where').allInnerTexts();
    if (!german.length || german.some((w) => !w.includes('DE'))) fail(`country DE shows ${german}`);

    await page.goto(`${base}/partners?q=voice`);
    await page.getByRole('link', { name: 'Alpine Voice AG' }).click();
    await page.waitForURL(/\/partners\/alpine-voice-ag$/);
    if (!(await page.locator('h1').innerText()).startsWith('Alpine Voice AG')) fail('the profile has no heading');
    const stories = await page.locator('article.story').count();
    if (!stories) fail('the profile shows no success story');
    await page.screenshot({ path: `${artifacts}/partner-profile-${name}.png`, fullPage: true });
    // Nothing overflows a phone's width.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) fail(`the profile is ${overflow}px wider than the ${name} screen`);

    const missing = await page.goto(`${base}/partners/no-such-partner`);
    if (missing.status() !== 404 || !(await page.locator('[role=alert]').innerText()).includes('No listed partner')) {
      fail('an unknown profile is not explained');
    }
    if (outside.length) fail(`requests left the server: ${outside}`);
    await context.close();
  }
  console.log(`directory pages passed in chromium; screenshots in ${artifacts}`);
} finally {
  await browser.close();
}
