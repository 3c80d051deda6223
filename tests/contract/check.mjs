// The API contract as client tools see it, against a running server:
//   node check.mjs schema <graphql url> <schema.graphql>   served schema == committed, normalised
//   node check.mjs lint <schema.graphql>                   graphql-schema-linter, no finding
//   node check.mjs trusted <graphql url> <persisted.json> <token>
//                                                           Relay's persisted output runs by id,
//                                                           anything else is refused
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from 'graphql';

const here = fileURLToPath(new URL('.', import.meta.url));
const [command, ...args] = process.argv.slice(2);

async function post(url, body, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  return response.json();
}

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

if (command === 'schema') {
  const [url, file] = args;
  const answer = await post(url, { query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }) });
  if (answer.errors) fail(`introspection: ${JSON.stringify(answer.errors)}`);
  const normal = (schema) => printSchema(lexicographicSortSchema(schema));
  const served = normal(buildClientSchema(answer.data));
  const committed = normal(buildSchema(readFileSync(file, 'utf8')));
  if (served !== committed) {
    const a = served.split('\n');
    const b = committed.split('\n');
    const at = a.findIndex((line, i) => line !== b[i]);
    fail(`the served schema differs from ${file} at line ${at + 1}:\n  served:    ${a[at]}\n  committed: ${b[at]}`);
  }
  console.log(`ok   the served schema is ${file}, normalised (${served.length} characters)`);
} else if (command === 'lint') {
  // Every type, field, argument, input value and enum value has a description; Relay's
  // connection rules hold (rules in .graphql-schema-linterrc).
  const [file] = args;
  let out;
  try {
    out = execFileSync(`${here}/node_modules/.bin/graphql-schema-linter`, ['-f', 'json', '-c', here, file], {
      encoding: 'utf8',
    });
  } catch (error) {
    out = error.stdout;
  }
  const findings = JSON.parse(out).errors;
  for (const f of findings) console.error(`lint ${f.rule}: ${f.message}`);
  if (findings.length) fail(`schema lint: ${findings.length} finding(s)`);
  console.log('ok   schema lint: every type, field, argument and value is described');
} else if (command === 'trusted') {
  const [url, manifestFile, token] = args;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const [id, text] = Object.entries(manifest).find(([, doc]) => doc.startsWith('query DashboardViewerQuery'));
  const byId = await post(url, { documentId: id }, token);
  if (!byId.data?.viewer?.user?.displayName) fail(`document ${id}: ${JSON.stringify(byId)}`);
  const other = await post(url, { query: '{ viewer { user { email } } }' }, token);
  if (other.errors?.[0]?.extensions?.code !== 'PERSISTED_QUERY_NOT_FOUND') fail(`unlisted: ${JSON.stringify(other)}`);
  const listed = await post(url, { query: text }, token);
  if (!listed.data) fail(`the listed text: ${JSON.stringify(listed)}`);
  console.log(`ok   trusted documents: ${Object.keys(manifest).length} from relay-compiler run by id; others refused`);
} else {
  fail('usage: node check.mjs schema|lint|trusted ...');
}
