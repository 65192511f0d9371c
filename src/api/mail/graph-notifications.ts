import express, { type Request, type Response, type Router } from 'express';
import {
  acceptGraphLifecycle,
  acceptGraphNotifications,
  validationHandshake,
  type GraphIntakeDeps,
} from '../../mail/notification-intake';
import type { IngressReply, IngressRequest } from '../../platform/ingress/ingress';
import { originalBody } from '../../mail/graph/client-state';
import { ingressRequest, rawBody, sendReply } from '../ingress';

/**
 * Microsoft Graph change and lifecycle notifications for a mailbox: the validation handshake is
 * echoed at once; anything else goes to intake and is answered 202 once committed.
 */
export function graphHooksRouter(deps: GraphIntakeDeps): Router {
  const router = express.Router();
  const handle =
    (accept: (d: GraphIntakeDeps, r: IngressRequest) => Promise<IngressReply>) =>
    async (req: Request, res: Response) => {
      const handshake = validationHandshake(req.query);
      if (handshake) return sendReply(res, handshake);
      // The log gets the body with clientState redacted; the check reads the bytes as sent.
      const asSent = ingressRequest(req, res, originalBody(res, req.body));
      sendReply(res, await accept(deps, { ...asSent, logged: rawBody(req) }));
    };
  router.post('/:mailboxId/notifications', handle(acceptGraphNotifications));
  router.post('/:mailboxId/lifecycle', handle(acceptGraphLifecycle));
  return router;
}
