// A real OpenID provider for the single sign-on tests: node's certified `oidc-provider`,
// started on loopback by tests/sso/conftest.py. Its one client is Artifact
// (client_id "artifact", secret from IDP_CLIENT_SECRET, redirect URIs from IDP_REDIRECT_URIS,
// comma-separated). Its sign-in page is scripted: POST /interaction/<uid> with `login` (the
// e-mail, also the account id), `name`, `groups` (comma-separated), `email_verified` ("0" to
// deny it) and `mfa` ("1": the ID token's amr says mfa). Consent is implied (first-party).
// Prints "listening <issuer>" once ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.IDP_REDIRECT_URIS || '').split(',').filter(Boolean);
const accounts = new Map();

const configuration = {
  clients: [{
    client_id: 'artifact',
    client_secret: process.env.IDP_CLIENT_SECRET || 'artifact-test-secret',
    redirect_uris: redirectUris,
    post_logout_redirect_uris: (process.env.IDP_POST_LOGOUT_URIS || '').split(',').filter(Boolean),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub', 'amr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  scopes: ['openid', 'email', 'profile'],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  cookies: { keys: ['artifact-test-cookie-key'] },
  findAccount: async (ctx, id) => {
    const account = accounts.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
const handler = provider.callback();

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(body))));
  });
}

const page = (uid) => `<!doctype html><html lang="en"><head><title>Test IdP sign-in</title></head>
<body><h1>Test IdP</h1><form method="post" action="/interaction/${uid}">
<label>E-mail <input name="login" type="email"></label>
<label>Name <input name="name"></label>
<label>Groups <input name="groups"></label>
<label><input type="checkbox" name="mfa" value="1"> I used a second factor</label>
<button type="submit">Sign in at the IdP</button></form></body></html>`;

const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url);
  if (!match) return handler(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(details.uid));
    }
    const form = await readForm(req);
    const login = String(form.login || '').trim().toLowerCase();
    accounts.set(login, {
      email: login,
      email_verified: form.email_verified !== '0',
      name: form.name || login,
      groups: String(form.groups || '').split(',').map((g) => g.trim()).filter(Boolean),
    });
    const amr = form.mfa === '1' ? ['pwd', 'mfa'] : ['pwd'];
    return await provider.interactionFinished(req, res, { login: { accountId: login, amr } },
      { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end(`interaction failed: ${err.message}`);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
