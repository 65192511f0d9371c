/** The authorization-code side shared by the provider emulators: consent pages and PKCE. */
import { createHash } from 'node:crypto';

export interface PkceChallenge {
  challenge: string;
  method: 'S256' | 'plain';
}

/** Reads `code_challenge`/`code_challenge_method` from an authorize request (undefined when absent). */
export function readChallenge(query: Record<string, string | undefined>): PkceChallenge | undefined | 'invalid' {
  const challenge = query['code_challenge'];
  if (challenge === undefined) return undefined;
  const method = query['code_challenge_method'] ?? 'plain';
  if ((method !== 'S256' && method !== 'plain') || !/^[A-Za-z0-9._~-]{43,128}$/.test(challenge)) return 'invalid';
  return { challenge, method };
}

/** RFC 7636: the verifier must hash (S256) or equal (plain) the challenge sent to the authorize endpoint. */
export function pkceMatches(pkce: PkceChallenge | undefined, verifier: string | undefined): boolean {
  if (!pkce) return verifier === undefined;
  if (verifier === undefined || !/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const derived = pkce.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return derived === pkce.challenge;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ConsentChoice {
  value: string;
  label: string;
}

/**
 * A provider's consent screen: the app asks for access, the user picks the organisation(s) and
 * presses "Allow access" (or "Cancel"). The form posts back with the request's parameters.
 */
export function consentPage(input: {
  provider: string;
  appName: string;
  scope: string;
  action: string;
  hidden: Record<string, string>;
  choiceName: string;
  choiceLabel: string;
  choices: ConsentChoice[];
  multiple: boolean;
}): string {
  const hidden = Object.entries(input.hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const choices = input.choices
    .map((c, i) =>
      input.multiple
        ? `<label><input type="checkbox" name="${esc(input.choiceName)}" value="${esc(c.value)}" checked> ${esc(c.label)}</label><br>`
        : `<label><input type="radio" name="${esc(input.choiceName)}" value="${esc(c.value)}" ${i === 0 ? 'checked' : ''}> ${esc(c.label)}</label><br>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(input.provider)} | Authorise app</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}fieldset{margin:1rem 0}button{font-size:1rem;padding:.4rem 1rem}</style></head>
<body><h1>${esc(input.provider)}</h1><p><strong>${esc(input.appName)}</strong> wants access to:</p>
<ul>${input.scope
    .split(/\s+/)
    .filter(Boolean)
    .map((s) => `<li><code>${esc(s)}</code></li>`)
    .join('')}</ul>
<form method="post" action="${esc(input.action)}">${hidden}
<fieldset><legend>${esc(input.choiceLabel)}</legend>${choices || '<p>No organisations to choose from.</p>'}</fieldset>
<button type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button></form></body></html>`;
}

/** The redirect back to the app: `code`/`state` (plus extras such as `realmId`) or an `error`. */
export function redirectBack(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * Walks a consent page without a browser, as a user would: opens the authorize URL, keeps the
 * form's hidden fields, picks the given choices (all offered ones when omitted) and presses
 * "Allow access" or "Cancel". Returns where the provider sends the browser next.
 */
export async function answerConsent(
  authorizeUrl: string,
  options: { decision?: 'allow' | 'deny'; choose?: string[] } = {},
): Promise<{ location: string; page: string }> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  if (res.status === 302) return { location: res.headers.get('location') ?? '', page: '' };
  const page = await res.text();
  if (res.status !== 200) throw new Error(`authorize answered ${res.status}: ${page}`);
  const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error('no consent form on the page');
  const unesc = (v: string) => v.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)));
  const form = new URLSearchParams();
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.append(unesc(m[1]!), unesc(m[2]!));
  const offered = [...page.matchAll(/<input type="(?:checkbox|radio)" name="([^"]+)" value="([^"]*)"/g)];
  for (const m of offered) {
    const value = unesc(m[2]!);
    if (!options.choose || options.choose.includes(value)) form.append(unesc(m[1]!), value);
  }
  form.set('decision', options.decision ?? 'allow');
  const answer = await fetch(new URL(unesc(action), authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  return { location: answer.headers.get('location') ?? '', page };
}
