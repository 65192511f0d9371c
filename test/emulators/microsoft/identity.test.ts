import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { ensureEmulatorCa, startMicrosoftEmulator } from './index';
import type { MicrosoftEmulator } from './index';
import { appToken, graph, httpsJson } from './test-support';

const TENANT = '6f1c4b52-1d2e-4c1b-9a51-1f0c6d1e2a01';

describe('Microsoft emulator: CA and identity platform', () => {
  let emulator: MicrosoftEmulator;
  let app: { tenantId: string; clientId: string; clientSecret: string };

  beforeAll(async () => {
    emulator = await startMicrosoftEmulator();
    app = emulator.registerApp({ tenantId: TENANT, permissions: ['Mail.ReadWrite'] });
    emulator.addUser(TENANT, { id: 'user-1', mail: 'helpdesk@contoso.test', displayName: 'Helpdesk' });
  });
  afterAll(() => emulator.stop());

  const token = (form: Record<string, string>, tenant = TENANT) =>
    httpsJson(`${emulator.url}/${tenant}/oauth2/v2.0/token`, emulator.caPem, { method: 'POST', form });

  it('reuses the persisted CA and serves a certificate for localhost and 127.0.0.1 signed by it', async () => {
    const again = await ensureEmulatorCa(emulator.caPath.replace(/\/ca\.pem$/, ''));
    expect(again.caPem).toBe(emulator.caPem);
    const ca = new X509Certificate(await readFile(emulator.caPath));
    const server = new X509Certificate(again.certPem);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('issues app-only tokens for the Graph .default scope', async () => {
    const response = await token({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: `${emulator.url}/.default`,
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: expect.stringMatching(/^ey[\w-]+\.[\w-]+\.[\w-]+$/),
    });
  });

  it('rejects a bad secret with invalid_client / AADSTS7000215 in the real error shape', async () => {
    const response = await token({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: 'not-the-secret',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(response.status).toBe(401);
    expect(response.json).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/^AADSTS7000215: Invalid client secret provided\./),
      error_codes: [7000215],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      trace_id: expect.any(String),
      correlation_id: expect.any(String),
    });
  });

  it('answers AADSTS90002 for an unknown tenant and invalid_scope for a non-.default scope', async () => {
    const unknown = await token({ grant_type: 'client_credentials', client_id: app.clientId }, 'no-such-tenant');
    expect(unknown.status).toBe(400);
    expect(unknown.json.error_codes).toEqual([90002]);
    const scope = await token({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: 'Mail.Read',
    });
    expect(scope.json).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
  });

  it('rejects the old secret after rotation and every secret after revocation', async () => {
    const rotating = emulator.registerApp({ tenantId: TENANT });
    const fresh = emulator.rotateSecret(rotating.clientId);
    const form = (secret: string) => ({
      grant_type: 'client_credentials',
      client_id: rotating.clientId,
      client_secret: secret,
      scope: 'https://graph.microsoft.com/.default',
    });
    expect((await token(form(rotating.clientSecret))).status).toBe(401);
    expect((await token(form(fresh))).status).toBe(200);
    emulator.expireSecret(rotating.clientId);
    expect((await token(form(fresh))).json.error_codes).toEqual([7000222]);
    emulator.revokeSecret(rotating.clientId);
    expect((await token(form(fresh))).json.error_codes).toEqual([7000215]);
  });

  it('runs the authorization code flow with PKCE, then rotates refresh tokens', async () => {
    const web = emulator.registerApp({ tenantId: TENANT, redirectUris: ['https://app.test/azure/auth'] });
    const authorize = await httpsJson(
      `${emulator.url}/${TENANT}/oauth2/v2.0/authorize?${new URLSearchParams({
        client_id: web.clientId,
        response_type: 'code',
        redirect_uri: 'https://app.test/azure/auth',
        scope: 'Mail.ReadWrite openid profile offline_access',
        state: 's1',
        nonce: 'n1',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString()}`,
      emulator.caPem,
    );
    expect(authorize.status).toBe(302);
    const redirect = new URL(String(authorize.headers.location));
    expect(redirect.searchParams.get('state')).toBe('s1');
    const code = redirect.searchParams.get('code') ?? '';
    const redeem = {
      grant_type: 'authorization_code',
      client_id: web.clientId,
      client_secret: web.clientSecret,
      code,
      redirect_uri: 'https://app.test/azure/auth',
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      client_info: '1',
      scope: 'Mail.ReadWrite openid profile offline_access',
    };
    const first = await token(redeem);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ token_type: 'Bearer', scope: 'Mail.ReadWrite openid profile' });
    const idClaims = JSON.parse(Buffer.from(String(first.json.id_token).split('.')[1] ?? '', 'base64url').toString());
    expect(idClaims).toMatchObject({
      oid: 'user-1',
      tid: TENANT,
      nonce: 'n1',
      preferred_username: 'helpdesk@contoso.test',
    });
    expect(JSON.parse(Buffer.from(String(first.json.client_info), 'base64url').toString())).toEqual({
      uid: 'user-1',
      utid: TENANT,
    });
    expect((await token(redeem)).json.error_codes).toEqual([54005]);

    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: web.clientId,
      client_secret: web.clientSecret,
      refresh_token: String(first.json.refresh_token),
      scope: 'Mail.ReadWrite offline_access',
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.refresh_token).not.toBe(first.json.refresh_token);
    const me = await graph(emulator, String(refreshed.json.access_token), '/me/mailFolders/inbox/messages');
    expect(me.status).toBe(200);

    emulator.revokeRefreshTokens('user-1');
    const revoked = await token({
      grant_type: 'refresh_token',
      client_id: web.clientId,
      client_secret: web.clientSecret,
      refresh_token: String(refreshed.json.refresh_token),
    });
    expect(revoked.json).toMatchObject({ error: 'invalid_grant', suberror: 'bad_token', error_codes: [50173] });
  });

  it('redirects with error=access_denied when the user declines consent', async () => {
    emulator.setAuthorizeBehaviour({ outcome: 'access_denied' });
    try {
      const response = await httpsJson(
        `${emulator.url}/${TENANT}/oauth2/v2.0/authorize?client_id=${app.clientId}&response_type=code&redirect_uri=${encodeURIComponent('https://app.test/cb')}&state=s2&scope=Mail.Read`,
        emulator.caPem,
      );
      const redirect = new URL(String(response.headers.location));
      expect(redirect.searchParams.get('error')).toBe('access_denied');
      expect(redirect.searchParams.get('state')).toBe('s2');
      expect(redirect.searchParams.get('code')).toBeNull();
    } finally {
      emulator.setAuthorizeBehaviour({ outcome: 'approve' });
    }
  });

  it('makes Graph reject tokens after expireAllTokens with InvalidAuthenticationToken', async () => {
    const accessToken = await appToken(emulator, app);
    expect((await graph(emulator, accessToken, '/users/helpdesk@contoso.test/messages')).status).toBe(200);
    emulator.expireAllTokens();
    const rejected = await graph(emulator, accessToken, '/users/helpdesk@contoso.test/messages');
    expect(rejected.status).toBe(401);
    expect(rejected.json.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Lifetime validation failed, the token is expired.',
    });
    expect(rejected.headers['www-authenticate']).toContain('Bearer');
  });

  it('stop() closes kept-alive client connections promptly', async () => {
    const own = await startMicrosoftEmulator();
    const agent = new https.Agent({ keepAlive: true, ca: own.caPem });
    await new Promise<void>((resolve, reject) => {
      https
        .get(`${own.url}/common/discovery/instance`, { agent }, (res) => res.resume().on('end', resolve))
        .on('error', reject);
    });
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    agent.destroy();
  });

  it('serves OpenID discovery, instance discovery and JWKS', async () => {
    const discovery = await httpsJson(
      `${emulator.url}/${TENANT}/v2.0/.well-known/openid-configuration`,
      emulator.caPem,
    );
    expect(discovery.json).toMatchObject({
      token_endpoint: `${emulator.url}/${TENANT}/oauth2/v2.0/token`,
      issuer: `${emulator.url}/${TENANT}/v2.0`,
    });
    const instance = await httpsJson(`${emulator.url}/common/discovery/instance?api-version=1.1`, emulator.caPem);
    expect(instance.json.metadata[0].aliases).toEqual([`localhost:${emulator.port}`]);
    const keys = await httpsJson(discovery.json.jwks_uri, emulator.caPem);
    expect(keys.json.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
  });
});
