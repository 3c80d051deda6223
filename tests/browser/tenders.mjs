// Posting a call for tenders as a visitor, in a real browser (Debian's chromium, driven by
// Playwright) without JavaScript and with the network cut off: the form refuses a bad field in
// words and keeps what was typed; the confirmation e-mail arrives at the local SMTP server
// (aiosmtpd, tests/notify/tools.py); its link publishes the call, which a matching partner then
// reads in GraphQL, redacted; the private page lists responses. Each page is photographed at
// desktop and phone width into the artifacts directory.
//   node tenders.mjs http://127.0.0.1:PORT <mail dir> <token of a Swiss partner> <artifacts dir>
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, mailDir, partnerToken, artifacts] = process.argv.slice(2);
if (!base || !mailDir || !partnerToken || !artifacts) {
  console.error('usage: node tenders.mjs <server origin> <mail dir> <partner token> <artifacts dir>');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const fail = (message) => {
  console.error(`FAIL ${message}`);
  process.exit(1);
};

async function gql(query, variables = {}) {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${partnerToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await r.json();
  if (body.errors) fail(`GraphQL: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/// The newest message to `address` the SMTP server received, waiting up to 30 s.
async function mailTo(address, subjectPart) {
  for (let i = 0; i < 150; i += 1) {
    const found = readdirSync(mailDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(`${mailDir}/${f}`, 'utf8')))
      .filter((m) => m.rcpt_tos.includes(address) && m.subject.includes(subjectPart));
    if (found.length) return found[found.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return fail(`no e-mail "${subjectPart}" to ${address} in ${mailDir}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    const context = await browser.newContext({ viewport, javaScriptEnabled: false });
    const outside = [];
    await context.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested.startsWith(`${base}/`)) return route.continue();
      outside.push(requested);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    const title = `Phones for our shops (${name} ${Date.now()})`;
    const address = `visitor-${name}@shops.example`;

    // From the directory's navigation to the form.
    await page.goto(`${base}/partners`, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Post a call for tenders' }).click();
    await page.waitForURL(/\/tenders\/new$/);
    const csp = (await page.context().request.get(`${base}/tenders/new`)).headers()['content-security-policy'] || '';
    if (!csp.includes("default-src 'none'") || csp.includes('script-src')) fail(`not a strict policy: ${csp}`);
    const unlabelled = await page.$$eval('form.tender input:not([type=hidden]), form.tender textarea', (fields) =>
      fields.filter((f) => !f.id || !document.querySelector(`label[for="${f.id}"]`)).map((f) => f.name));
    if (unlabelled.length) fail(`fields without a label: ${unlabelled}`);
    await page.screenshot({ path: `${artifacts}/tender-new-${name}.png`, fullPage: true });

    // Filled with the keyboard-reachable labels; the budget is upside down at first.
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Description').fill('Desk phones for five shops in Zurich and Basel, installed in one week.');
    await page.getByLabel('From').fill('9000');
    await page.getByLabel('Up to').fill('4000');
    await page.getByLabel('Currency').fill('CHF');
    await page.getByLabel('Countries').fill('CH');
    await page.getByLabel('Product lines').fill('Desk phones');
    const deadline = new Date(Date.now() + 20 * 86400e3).toISOString().slice(0, 10);
    await page.getByLabel('Deadline').fill(deadline);
    await page.getByLabel('Your name').fill('Vera Visitor');
    await page.getByLabel('Your e-mail').fill(address);
    await page.getByRole('button', { name: 'Post the call for tenders' }).click();
    await page.waitForLoadState('load');
    const alert = await page.getByRole('alert').innerText();
    if (!alert.includes('Budget up to')) fail(`the error does not name the field: ${alert}`);
    if ((await page.getByLabel('Title').inputValue()) !== title) fail('the title typed was lost');
    if ((await page.getByLabel('Up to').getAttribute('aria-invalid')) !== 'true') fail('the field is not marked invalid');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    if (overflow) fail(`the form scrolls sideways at ${name} width`);
    await page.screenshot({ path: `${artifacts}/tender-error-${name}.png`, fullPage: true });

    await page.getByLabel('Up to').fill('14000');
    await page.getByRole('button', { name: 'Post the call for tenders' }).click();
    await page.waitForLoadState('load');
    if ((await page.locator('h1').innerText()) !== 'Check your e-mail') fail('no "check your e-mail" page');
    await page.screenshot({ path: `${artifacts}/tender-sent-${name}.png`, fullPage: true });

    // Not published before the link is followed.
    const before = await gql('{ tenders(first: 100) { nodes { title } } }');
    if (before.tenders.nodes.some((n) => n.title === title)) fail('published before confirmation');

    const mail = await mailTo(address, 'Confirm your call for tenders');
    const link = (mail.text.match(/https?:\/\/\S+\/tenders\/confirm\?token=\S+/) || [])[0];
    if (!link || !link.startsWith(base)) fail(`no confirmation link in: ${mail.text}`);
    await page.goto(link, { waitUntil: 'load' });
    await page.screenshot({ path: `${artifacts}/tender-confirm-${name}.png`, fullPage: true });
    await page.getByRole('button', { name: 'Publish it' }).click();
    await page.waitForLoadState('load');
    const status = await page.getByRole('status').innerText();
    if (!status.includes('is published')) fail(`not published: ${status}`);
    await page.screenshot({ path: `${artifacts}/tender-published-${name}.png`, fullPage: true });
    const manage = await page.getByRole('link', { name: 'Open your call for tenders' }).getAttribute('href');

    // A Swiss partner reads it, without its author until it expresses interest.
    const after = await gql('{ tenders(first: 100) { nodes { id title author { contactEmail } } } }');
    const mine = after.tenders.nodes.find((n) => n.title === title);
    if (!mine) fail('a matching partner does not see the confirmed call');
    if (mine.author !== null) fail('the author shows before interest');
    await gql('mutation($id: ID!) { respondToTender(input: { tenderId: $id, proposal: "Five shops in a week.", price: { amount: "12000", currency: "CHF" }, idempotencyKey: $id }) { id } }', { id: mine.id });

    // The link again: refused in words. The private page lists the response.
    await page.goto(link, { waitUntil: 'load' });
    if (!(await page.getByRole('alert').innerText()).includes('already used')) fail('a used link is not refused');
    await page.goto(new URL(manage, base).href, { waitUntil: 'load' });
    if (!(await page.locator('main').innerText()).includes('Five shops in a week.')) fail('the response is not listed');
    await page.screenshot({ path: `${artifacts}/tender-manage-${name}.png`, fullPage: true });
    if (outside.length) fail(`requests left the server: ${outside}`);
    await context.close();
  }
  console.log('tender pages: visitor posted, confirmed by e-mail, seen by a partner, at desktop and phone width');
} finally {
  await browser.close();
}
