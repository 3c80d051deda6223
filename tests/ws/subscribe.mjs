// A graphql-ws client (graphql-transport-ws), as a dashboard would use it:
//   node subscribe.mjs <ws url> <token or -> <subscription document> [organization id]
// Prints one JSON line per message: {"connected":true}, then each result, an {"error":...}
// or {"complete":true}. Runs until the stream ends or the process is killed.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query, organization] = process.argv.slice(2);
const params = {};
if (token !== '-') params.authorization = `Bearer ${token}`;
if (organization) params.organization = organization;
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: params,
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => say({ connected: true }),
    closed: (event) => say({ closed: event?.code ?? null, reason: event?.reason ?? null }),
  },
});
client.subscribe(
  { query },
  {
    next: (value) => say(value),
    error: (error) => {
      say({ error: error?.message ?? error?.reason ?? (Array.isArray(error) ? error.map((e) => e.message).join('; ') : String(error)) });
      client.dispose();
      process.exit(0);
    },
    complete: () => {
      say({ complete: true });
      client.dispose();
      process.exit(0);
    },
  },
);
