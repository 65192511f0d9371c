import { attachmentContent, attachmentsOfMessage } from '../../mail/db/attachments';
import type { Queryable } from '../../platform/db/pool';
import { toGraphAttachment } from '../../mail/graph/attachments';

/** The attachments an agent chose for a reply, as Graph fileAttachment resources. */
export async function replyAttachments(
  db: Queryable,
  ticketMessageId: string,
): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const a of await attachmentsOfMessage(db, ticketMessageId)) {
    if (!a.sha256) continue;
    const content = await attachmentContent(db, a.sha256);
    if (content) out.push(toGraphAttachment({ name: a.name, contentType: a.content_type, content }));
  }
  return out;
}
