// A real OpenID Provider (npm `oidc-provider`) on loopback for SecureGuard's single sign-on tests.
//
//   node tests/oidc/provider.mjs --port 4010 --redirect-uri http://localhost:3000/auth/oidc/callback \
//        --post-logout-redirect-uri http://localhost:3000/login?error=logged_out
//
// Prints "ready <issuer>" on stdout once it listens. Login is the provider's devInteractions form: the login
// name picks an account below (any password), so tests sign in through the provider's own HTML form.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'secureguard' },
    'client-secret': { type: 'string', default: 'secureguard-test-client-secret-0123456789' },
  },
});

// Accounts by login name; `tenant` and `groups` are what SecureGuard maps to its tenant and role.
const ACCOUNTS = {
  'ana@alpha': { email: 'ana@alpha.example', name: 'Ana Alpha', tenant: 'alpha', groups: ['sg-approver'] },
  'adam@alpha': { email: 'adam@alpha.example', name: 'Adam Alpha', tenant: 'alpha', groups: ['staff', 'sg-admin'] },
  'bob@bravo': { email: 'bob@bravo.example', name: 'Bob Bravo', tenant: 'bravo', groups: ['sg-analyst'] },
  'zoe@zulu': { email: 'zoe@zulu.example', name: 'Zoe Zulu', tenant: 'zulu', groups: ['sg-admin'] },
  'vic@alpha': { email: 'vic@alpha.example', name: 'Vic Alpha', tenant: 'alpha', groups: [] },
};

const issuer = `http://127.0.0.1:${args.port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
// A new key, under a new kid, at every start: relying parties must fetch keys by kid, not cache them forever.
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `test-${randomUUID()}`, use: 'sig', alg: 'RS256' };

const client = {
  client_id: args['client-id'],
  client_secret: args['client-secret'],
  redirect_uris: args['redirect-uri'],
  post_logout_redirect_uris: args['post-logout-redirect-uri'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
};
// A second relying party: tokens issued to it must not open a SecureGuard session (audience tests).
const otherClient = {
  ...client, client_id: 'other-app', client_secret: 'other-app-client-secret-0123456789',
  redirect_uris: ['http://127.0.0.1:9/other/callback'], post_logout_redirect_uris: [],
};

const provider = new Provider(issuer, {
  clients: [client, otherClient],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['secureguard-test-provider-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
    tenant: ['tenant'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...account };
      },
    };
  },
  // SecureGuard is a first-party client: grant the requested scopes without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
