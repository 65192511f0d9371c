import type { Response } from 'express';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A plain page for a browser that a provider's sign-in sent back to us (a title, one paragraph,
 * an optional link back), never cached and allowed to load nothing.
 */
export function sendHtmlPage(res: Response, status: number, title: string, text: string, link?: string): void {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .set('Content-Security-Policy', "default-src 'none'")
    .type('text/html')
    .send(
      `<!doctype html><html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>${
        link ? `<p><a href="${escapeHtml(link)}">Back to the console</a></p>` : ''
      }</body></html>`,
    );
}
