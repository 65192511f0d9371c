import { randomBytes } from 'node:crypto';
import { preferenceApplied } from './graph-context';
import type { MailboxContext } from './graph-context';
import type { DeltaEntry } from './mail-store';
import { messageId, parseSelect, renderMessage } from './message-view';
import { graphError } from './replies';
import type { HttpReply } from './replies';

interface Snapshot {
  userId: string;
  folderId: string;
  entries: DeltaEntry[];
  upTo: number;
  select: string[] | null;
  createdAt: number;
}

/** What a `$deltatoken` encodes: where the client's copy of the folder stands. */
interface DeltaState {
  u: string;
  f: string;
  v: number;
  e: number;
  s: string[] | null;
}

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;
const SNAPSHOT_TTL_MS = 30 * 60 * 1000;

/**
 * Paging state of delta rounds. A round's change set is fixed when it starts, so paging stays consistent
 * while mail keeps arriving; anything newer is picked up by the next round.
 */
export class DeltaSessions {
  private readonly snapshots = new Map<string, Snapshot>();
  /** Bumped by `invalidateAll`: older delta tokens then answer 410 and the client must resync. */
  epoch = 1;

  invalidateAll(): void {
    this.epoch += 1;
    this.snapshots.clear();
  }

  start(snapshot: Omit<Snapshot, 'createdAt'>): string {
    const now = Date.now();
    for (const [id, old] of this.snapshots) if (now - old.createdAt > SNAPSHOT_TTL_MS) this.snapshots.delete(id);
    const id = randomBytes(12).toString('base64url');
    this.snapshots.set(id, { ...snapshot, createdAt: now });
    return id;
  }

  get(id: string): Snapshot | undefined {
    return this.snapshots.get(id);
  }

  finish(id: string): void {
    this.snapshots.delete(id);
  }
}

/** GET .../mailFolders/{folder}/messages/delta with `$skiptoken` / `$deltatoken` paging. */
export function messagesDelta(ctx: MailboxContext, params: Record<string, string>): HttpReply {
  const { deps, mailbox, query } = ctx;
  const folderSegment = params['folder'] ?? '';
  const folder = deps.store.folder(mailbox, folderSegment);
  if (!folder) return graphError(404, 'ErrorItemNotFound', 'The specified folder could not be found in the store.');

  let sessionId: string;
  let offset = 0;
  const skipToken = query.get('$skiptoken');
  const deltaToken = query.get('$deltatoken');
  if (skipToken !== null) {
    const [id = '', at = '0'] = skipToken.split('.');
    const snapshot = deps.delta.get(id);
    if (!snapshot || snapshot.userId !== mailbox.user.id || snapshot.folderId !== folder.id) return syncStateNotFound();
    sessionId = id;
    offset = Number(at) || 0;
  } else {
    let since: number | null = null;
    let select: string[] | null;
    if (deltaToken === 'latest') {
      since = deps.store.currentVersion;
      select = null;
    } else if (deltaToken !== null) {
      const state = decodeState(deltaToken);
      if (!state || state.u !== mailbox.user.id || state.f !== folder.id) {
        return graphError(400, 'ErrorInvalidSyncStateData', 'The sync state data is not valid for this folder.');
      }
      if (state.e !== deps.delta.epoch) return syncStateNotFound();
      since = state.v;
      select = state.s;
    } else {
      const parsed = parseSelect(query.get('$select'));
      if (!parsed.ok) return parsed.reply;
      select = parsed.value;
    }
    sessionId = deps.delta.start({
      userId: mailbox.user.id,
      folderId: folder.id,
      entries: deps.store.changesSince(mailbox, folder.id, since),
      upTo: deps.store.currentVersion,
      select,
    });
  }

  const snapshot = deps.delta.get(sessionId);
  if (!snapshot) return syncStateNotFound();
  const pageSize = Math.min(ctx.prefer.maxPageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const page = snapshot.entries.slice(offset, offset + pageSize);
  const immutable = ctx.prefer.immutableIds;
  const value = page.map((entry) => {
    // A message that left the folder after the round started is reported as removed, not stale.
    if (entry.kind === 'present' && entry.message.folderId === folder.id) {
      return renderMessage(entry.message, { select: snapshot.select, immutable, baseUrl: deps.baseUrl() });
    }
    const id =
      entry.kind === 'present'
        ? messageId(entry.message, immutable)
        : immutable
          ? entry.tombstone.immutableId
          : entry.tombstone.restId;
    return { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } };
  });

  const link = `${deps.baseUrl()}/v1.0/${ctx.prefix}/mailFolders('${encodeURIComponent(folderSegment)}')/messages/delta`;
  const body: Record<string, unknown> = {
    '@odata.context': `${deps.baseUrl()}/v1.0/$metadata#Collection(message)`,
    value,
  };
  if (offset + pageSize < snapshot.entries.length) {
    body['@odata.nextLink'] = `${link}?$skiptoken=${sessionId}.${offset + pageSize}`;
  } else {
    deps.delta.finish(sessionId);
    const state: DeltaState = {
      u: mailbox.user.id,
      f: folder.id,
      v: snapshot.upTo,
      e: deps.delta.epoch,
      s: snapshot.select,
    };
    body['@odata.deltaLink'] = `${link}?$deltatoken=${Buffer.from(JSON.stringify(state)).toString('base64url')}`;
  }
  return { status: 200, body, headers: preferenceApplied(ctx.prefer, true) };
}

function decodeState(token: string): DeltaState | null {
  try {
    const state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<DeltaState>;
    if (typeof state.u !== 'string' || typeof state.f !== 'string') return null;
    if (typeof state.v !== 'number' || typeof state.e !== 'number') return null;
    return { u: state.u, f: state.f, v: state.v, e: state.e, s: Array.isArray(state.s) ? state.s : null };
  } catch {
    return null;
  }
}

function syncStateNotFound(): HttpReply {
  return graphError(410, 'SyncStateNotFound', 'The sync state cannot be found. Please restart the synchronization.');
}
