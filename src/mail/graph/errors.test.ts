import { GraphError } from '@microsoft/microsoft-graph-client';
import { InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import {
  classifyGraphError,
  explainProblem,
  MailboxAuthError,
  parseExpiryCeilingMinutes,
  requiredPermission,
} from './errors';

const graphError = (status: number, code: string, message: string, headers?: Record<string, string>) => {
  const e = new GraphError(status, message);
  e.code = code;
  if (headers) e.headers = new Headers(headers);
  return e;
};

describe('classifyGraphError', () => {
  test('throttling carries Retry-After in milliseconds', () => {
    expect(
      classifyGraphError(graphError(429, 'ApplicationThrottled', 'slow down', { 'Retry-After': '7' })),
    ).toMatchObject({
      kind: 'throttled',
      retryAfterMs: 7000,
    });
    expect(classifyGraphError(graphError(503, 'ServiceUnavailable', 'busy', { 'Retry-After': '2' }))).toMatchObject({
      kind: 'throttled',
    });
    expect(classifyGraphError(graphError(503, 'ServiceUnavailable', 'busy'))).toMatchObject({ kind: 'transient' });
  });

  test('maps statuses to what the workflows do about them', () => {
    expect(classifyGraphError(graphError(404, 'ErrorItemNotFound', 'gone')).kind).toBe('not_found');
    expect(classifyGraphError(graphError(403, 'ErrorAccessDenied', 'no')).kind).toBe('forbidden');
    expect(classifyGraphError(graphError(410, 'SyncStateNotFound', 'restart')).kind).toBe('sync_reset');
    expect(classifyGraphError(graphError(400, 'InvalidRequest', 'bad')).kind).toBe('bad_request');
    expect(classifyGraphError(graphError(500, 'InternalServerError', 'boom')).kind).toBe('transient');
    expect(classifyGraphError(new Error('socket hang up')).kind).toBe('transient');
  });

  test('recognises rejected secrets and lost delegated grants from MSAL', () => {
    const secret = new ServerError('invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    expect(classifyGraphError(secret)).toMatchObject({ kind: 'credentials_rejected', code: 'invalid_client' });
    const expired = new ServerError('invalid_client', 'AADSTS7000222: The provided client secret keys are expired.');
    expect(classifyGraphError(expired).kind).toBe('credentials_rejected');
    const revoked = new InteractionRequiredAuthError('invalid_grant', 'AADSTS50173: The provided grant has expired');
    expect(classifyGraphError(revoked).kind).toBe('reauthorization_required');
    expect(classifyGraphError(new MailboxAuthError('reauthorization_required', 'not_connected', 'sign in')).kind).toBe(
      'reauthorization_required',
    );
  });
});

test('parses the subscription lifetime ceiling Graph reports', () => {
  expect(parseExpiryCeilingMinutes('Subscription expiration can only be 10070 minutes in the future.')).toBe(10070);
  expect(parseExpiryCeilingMinutes('Subscription expiration can only be 0.25 minutes in the future.')).toBe(0.25);
  expect(parseExpiryCeilingMinutes('Subscription expiration must be in the future.')).toBeNull();
});

test('names the missing permission the way the Azure portal does', () => {
  expect(requiredPermission('read', 'webhooks', false)).toBe(
    'Mail.ReadWrite (application permission, with admin consent)',
  );
  expect(requiredPermission('send', 'scan', true)).toBe('Mail.Send.Shared (delegated permission)');
  const text = explainProblem(
    { kind: 'forbidden', code: 'ErrorAccessDenied', message: 'Access is denied.' },
    { access: 'read', method: 'scan', shared: true, mailbox: 'shared@contoso.test' },
  );
  expect(text).toMatch(/shared@contoso\.test.*ErrorAccessDenied.*Mail\.ReadWrite\.Shared \(delegated permission\)/);
});
