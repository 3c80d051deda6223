// Runs graphql-http's GraphQL-over-HTTP server audits against the URL given as the first
// argument. Prints every audit; exits 1 when any MUST or SHOULD audit fails (MAY is reported).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:PORT/graphql');
  process.exit(2);
}

let failed = 0;
let passed = 0;
let warned = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    passed += 1;
    console.log(`ok    ${audit.name}`);
  } else if (audit.name.startsWith('MUST') || audit.name.startsWith('SHOULD')) {
    failed += 1;
    console.log(`FAIL  ${audit.name}: ${result.reason}`);
  } else {
    warned += 1;
    console.log(`warn  ${audit.name}: ${result.reason}`);
  }
}
console.log(`graphql-http audits: ${passed} passed, ${failed} MUST/SHOULD failed, ${warned} MAY not met`);
process.exit(failed > 0 ? 1 : 0);
