// GraphiQL in a real browser (Debian's chromium, driven by Playwright) with the network cut off:
// every request that does not go to the partnerhub under test is aborted and counted. It loads
// the page, checks the header editor offers `Authorization: Bearer `, completes it with a demo
// token, runs `{ viewer { user { displayName } } }` and reads the answer off the page. It also
// checks that the vendored assets are the npm packages' files.
//   node graphiql.mjs http://127.0.0.1:PORT/graphql <token> <expected display name>
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const [url, token, expected] = process.argv.slice(2);
if (!url || !token || !expected) {
  console.error('usage: node graphiql.mjs <graphql url> <token> <expected display name>');
  process.exit(2);
}
const fail = (message) => {
  console.error(`FAIL ${message}`);
  process.exit(1);
};

const here = fileURLToPath(new URL('.', import.meta.url));
const sha = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
for (const [vendored, from] of [
  ['graphiql.min.js', 'graphiql/graphiql.min.js'],
  ['graphiql.min.css', 'graphiql/graphiql.min.css'],
  ['react.production.min.js', 'react/umd/react.production.min.js'],
  ['react-dom.production.min.js', 'react-dom/umd/react-dom.production.min.js'],
]) {
  if (sha(`${here}/../../assets/graphiql/${vendored}`) !== sha(`${here}/node_modules/${from}`)) {
    fail(`assets/graphiql/${vendored} is not node_modules/${from}: run scripts/vendor-graphiql`);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
  ],
});
try {
  const origin = new URL(url).origin;
  const context = await browser.newContext();
  const outside = [];
  await context.route('**/*', (route) => {
    const requested = route.request().url();
    if (requested.startsWith(`${origin}/`)) return route.continue();
    outside.push(requested);
    return route.abort('internetdisconnected');
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));

  const response = await page.goto(url, { waitUntil: 'load' });
  const csp = response.headers()['content-security-policy'] || '';
  if (!csp.includes("script-src 'self'")) fail(`no strict Content-Security-Policy: ${csp}`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 20000 });

  const editor = (selector) => page.locator(selector).first();
  const headers = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
  await page.waitForSelector(headers, { timeout: 10000 });
  const prefilled = await editor(headers).evaluate((el) => el.CodeMirror.getValue());
  if (!/"Authorization":\s*"Bearer "/.test(prefilled)) fail(`the header editor starts with ${prefilled}`);

  await editor(headers).evaluate((el, t) => el.CodeMirror.setValue(JSON.stringify({ Authorization: `Bearer ${t}` })), token);
  await editor('.graphiql-query-editor .CodeMirror')
    .evaluate((el) => el.CodeMirror.setValue('{ viewer { user { displayName } } }'));
  await page.click('.graphiql-execute-button');
  const result = '.result-window .CodeMirror';
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.CodeMirror?.getValue().includes('displayName'),
    result,
    { timeout: 20000 },
  );
  const text = await editor(result).evaluate((el) => el.CodeMirror.getValue());
  const answer = JSON.parse(text);
  if (answer?.data?.viewer?.user?.displayName !== expected) fail(`the page shows ${text}`);
  if (outside.length) fail(`the page asked for ${outside.length} outside address(es): ${outside.join(', ')}`);
  if (problems.length) fail(`the page logged errors: ${problems.join(' | ')}`);
  console.log(`ok   GraphiQL ran the query offline and shows ${expected}; no request left ${origin}`);
} finally {
  await browser.close();
}
