import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** A user (and mailbox owner) in an emulated tenant. */
export interface DirectoryUser {
  id: string;
  tenantId: string;
  mail: string;
  displayName: string;
  userPrincipalName: string;
  /** False models a user whose mailbox is on-premises or inactive (Graph answers MailboxNotEnabledForRESTAPI). */
  hasMailbox: boolean;
}

export interface AddUserInput {
  id?: string;
  mail: string;
  displayName?: string;
  userPrincipalName?: string;
  hasMailbox?: boolean;
}

export interface RegisterAppInput {
  tenantId: string;
  clientId?: string;
  clientSecret?: string;
  displayName?: string;
  /** Microsoft Graph permissions: application roles for app-only tokens and the `.default` delegated set. */
  permissions?: string[];
  /** When given, authorize and token requests must use one of these; otherwise any redirect URI is accepted. */
  redirectUris?: string[];
}

export interface AppRegistration {
  tenantId: string;
  clientId: string;
  displayName: string;
  /** Object id of the app's service principal, the `oid` of its app-only tokens. */
  servicePrincipalId: string;
  permissions: Set<string>;
  redirectUris: string[] | null;
  secrets: ClientSecret[];
}

interface ClientSecret {
  value: string;
  state: 'active' | 'expired' | 'revoked';
}

export type SecretCheck = 'valid' | 'invalid' | 'expired';

/** Tenants, users and app registrations shared by the identity and Graph sides. */
export class Directory {
  private readonly tenants = new Map<string, Map<string, DirectoryUser>>();
  private readonly apps = new Map<string, AppRegistration>();

  addTenant(tenantId: string): void {
    if (!this.tenants.has(tenantId)) this.tenants.set(tenantId, new Map());
  }

  hasTenant(tenantId: string): boolean {
    return this.tenants.has(tenantId);
  }

  addUser(tenantId: string, input: AddUserInput): DirectoryUser {
    this.addTenant(tenantId);
    const user: DirectoryUser = {
      id: input.id ?? randomUUID(),
      tenantId,
      mail: input.mail,
      displayName: input.displayName ?? input.mail.split('@')[0] ?? input.mail,
      userPrincipalName: input.userPrincipalName ?? input.mail,
      hasMailbox: input.hasMailbox ?? true,
    };
    this.tenants.get(tenantId)?.set(user.id, user);
    return user;
  }

  /** Finds a user by object id, mail or UPN (case-insensitive), optionally only within one tenant. */
  findUser(idOrMail: string, tenantId?: string): DirectoryUser | undefined {
    const needle = idOrMail.toLowerCase();
    const tenants = tenantId === undefined ? [...this.tenants.values()] : [this.tenants.get(tenantId) ?? new Map()];
    for (const users of tenants) {
      for (const user of users.values()) {
        if (
          user.id.toLowerCase() === needle ||
          user.mail.toLowerCase() === needle ||
          user.userPrincipalName.toLowerCase() === needle
        ) {
          return user;
        }
      }
    }
    return undefined;
  }

  usersOf(tenantId: string): DirectoryUser[] {
    return [...(this.tenants.get(tenantId)?.values() ?? [])];
  }

  registerApp(input: RegisterAppInput): AppRegistration & { clientSecret: string } {
    this.addTenant(input.tenantId);
    const clientId = input.clientId ?? randomUUID();
    const clientSecret = input.clientSecret ?? newSecretValue();
    const app: AppRegistration = {
      tenantId: input.tenantId,
      clientId,
      displayName: input.displayName ?? `app-${clientId.slice(0, 8)}`,
      servicePrincipalId: randomUUID(),
      permissions: new Set(input.permissions ?? ['Mail.ReadWrite', 'Mail.Send']),
      redirectUris: input.redirectUris ?? null,
      secrets: [{ value: clientSecret, state: 'active' }],
    };
    this.apps.set(clientId, app);
    return { ...app, clientSecret };
  }

  findApp(clientId: string): AppRegistration | undefined {
    return this.apps.get(clientId);
  }

  /** Issues a new secret and invalidates the previous ones unless `keepOld`. */
  rotateSecret(clientId: string, keepOld = false): string {
    const app = this.requireApp(clientId);
    if (!keepOld) for (const secret of app.secrets) if (secret.state === 'active') secret.state = 'revoked';
    const value = newSecretValue();
    app.secrets.push({ value, state: 'active' });
    return value;
  }

  revokeSecrets(clientId: string): void {
    for (const secret of this.requireApp(clientId).secrets) secret.state = 'revoked';
  }

  /** Marks the active secrets as past their end date (AADSTS7000222 rather than 7000215). */
  expireSecrets(clientId: string): void {
    for (const secret of this.requireApp(clientId).secrets) if (secret.state === 'active') secret.state = 'expired';
  }

  checkSecret(app: AppRegistration, presented: string): SecretCheck {
    const match = app.secrets.find((secret) => constantTimeEquals(secret.value, presented));
    if (!match || match.state === 'revoked') return 'invalid';
    return match.state === 'expired' ? 'expired' : 'valid';
  }

  private requireApp(clientId: string): AppRegistration {
    const app = this.apps.get(clientId);
    if (!app) throw new Error(`no app registered with client id ${clientId}`);
    return app;
  }
}

// Shaped like Entra secrets: 40 characters with a `~` in the 4th position.
function newSecretValue(): string {
  const body = randomBytes(30).toString('base64url').replace(/[-_]/g, 'x').slice(0, 37);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}

function constantTimeEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
