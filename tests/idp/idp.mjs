// Identity providers for partnerhub's tests, all on 127.0.0.1 with ports chosen by the OS.
//
// - `alpha` and `beta`: real OpenID providers (oidc-provider, devInteractions on, PKCE required),
//   one confidential client `partnerhub` / `partnerhub-secret` whose redirect URIs are argv[2..].
//   Logging in as `<login>` gives subject `<login>`, e-mail `<login>` when it contains `@`
//   (else `<login>@example.test`), verified unless the login starts with `unverified`.
// - `forge`: a minimal provider whose next ID token is whatever POST /forge asks for (another
//   audience, expired, signed with a key it does not publish), to test that partnerhub refuses it.
//
// Prints one JSON line {"alpha": url, "beta": url, "forge": url} when all listen; stops on SIGTERM
// or when stdin closes (so a crashed test run leaves nothing behind).
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const redirectUris = process.argv.slice(2);
if (redirectUris.length === 0) {
  console.error('usage: node idp.mjs <redirect uri>...');
  process.exit(2);
}
const CLIENT = { client_id: 'partnerhub', client_secret: 'partnerhub-secret' };

function account(id) {
  const email = id.includes('@') ? id : `${id}@example.test`;
  return {
    accountId: id,
    async claims() {
      return { sub: id, email, email_verified: !id.startsWith('unverified'), name: id.split('@')[0] };
    },
  };
}

async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function oidcProvider() {
  let provider;
  const server = await listen((req, res) => provider.callback()(req, res));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  provider = new Provider(issuer, {
    clients: [{ ...CLIENT, redirect_uris: redirectUris, grant_types: ['authorization_code'], response_types: ['code'] }],
    findAccount: (ctx, id) => account(id),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['test-only-cookie-key'] },
  });
  return { server, issuer };
}

async function forgingProvider() {
  const published = await jose.generateKeyPair('RS256', { extractable: true });
  const unknown = await jose.generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(published.publicKey)), kid: 'published', alg: 'RS256', use: 'sig' };
  const codes = new Map();
  let next = {};
  let issuer;

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = (req) => new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
  });

  const server = await listen(async (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/me`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    if (url.pathname === '/jwks') return json(res, 200, { keys: [publicJwk] });
    if (url.pathname === '/forge' && req.method === 'POST') {
      next = JSON.parse((await readBody(req)) || '{}');
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/auth') {
      const code = crypto.randomUUID();
      codes.set(code, { nonce: url.searchParams.get('nonce'), spec: next });
      next = {};
      const target = new URL(url.searchParams.get('redirect_uri'));
      target.searchParams.set('code', code);
      target.searchParams.set('state', url.searchParams.get('state'));
      target.searchParams.set('iss', issuer);
      res.writeHead(303, { location: target.toString() });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const entry = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      if (!entry) return json(res, 400, { error: 'invalid_grant' });
      const spec = entry.spec;
      const now = Math.floor(Date.now() / 1000);
      const subject = spec.sub ?? 'forged-user';
      const key = spec.signWith === 'unknown' ? unknown.privateKey : published.privateKey;
      const idToken = await new jose.SignJWT({ nonce: spec.nonce ?? entry.nonce, email: `${subject}@example.test`, email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: spec.signWith === 'unknown' ? 'unknown' : 'published' })
        .setIssuer(spec.iss ?? issuer)
        .setSubject(subject)
        .setAudience(spec.aud ?? CLIENT.client_id)
        .setIssuedAt(now - 5)
        .setExpirationTime(now + (spec.expiresIn ?? 300))
        .sign(key);
      return json(res, 200, { access_token: crypto.randomUUID(), token_type: 'Bearer', expires_in: 300, id_token: idToken });
    }
    if (url.pathname === '/me') return json(res, 200, { sub: 'forged-user', email: 'forged-user@example.test', email_verified: true });
    json(res, 404, { error: 'not_found' });
  });
  issuer = `http://127.0.0.1:${server.address().port}`;
  return { server, issuer };
}

const alpha = await oidcProvider();
const beta = await oidcProvider();
const forge = await forgingProvider();
console.log(JSON.stringify({ alpha: alpha.issuer, beta: beta.issuer, forge: forge.issuer }));

const stop = () => {
  for (const { server } of [alpha, beta, forge]) {
    server.closeAllConnections();
    server.close();
  }
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
