/* Mailboxes (subscription, authorize, import, inbound log with requests) and tickets. */
'use strict';

(() => {
  const { KEY, esc, api, badge, when, workflowLink, toast, errorBox, pagedTable, qs, pages } = Console;

  /** An attachment's bytes, fetched with the operator's key (an <img> or link could not send it). */
  async function attachmentBlob(url) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}` } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.blob();
  }
  const dataUrl = (blob) =>
    new Promise((resolve, reject) => {
      const reader = new window.FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });
  const size = (n) =>
    n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} KB` : `${n} bytes`;

  pages.mailboxes = async (main) => {
    const { data } = await api('GET', '/mailboxes');
    main.innerHTML = `<h1>Mailboxes</h1><table><thead><tr><th>Name</th><th>Method</th><th>Address</th><th>Enabled</th><th>Subscription</th><th>Expires</th></tr></thead><tbody>
      ${
        data
          .map(
            (
              m,
            ) => `<tr><td><a href="#/mailboxes/${esc(m.id)}">${esc(m.name)}</a></td><td>${esc(m.method)}</td><td>${esc(m.emailAddress || m.sharedMailbox || '—')}</td>
          <td>${m.enabled === false ? badge('disabled') : badge('enabled')}</td>
          <td>${m.subscription ? badge(m.subscription.status || 'none') : '—'}</td><td>${esc(when(m.subscription && m.subscription.expiresAt))}</td></tr>`,
          )
          .join('') || '<tr><td colspan="6" class="muted">No mailboxes yet: create one through the API.</td></tr>'
      }</tbody></table>`;
  };

  pages.mailbox = async (main, id) => {
    const m = await api('GET', `/mailboxes/${encodeURIComponent(id)}`);
    const sub = m.subscription || {};
    main.innerHTML = `<h1>${esc(m.name)} <span class="muted">(${esc(m.method)})</span></h1>
      <div class="toolbar">
        ${m.method === 'webhooks' ? '<button id="create-sub">Create subscription</button><button class="secondary" id="cancel-sub">Cancel subscription</button>' : '<button id="authorize">Authorize application</button>'}
        <button class="secondary" id="import">Import emails now</button>
        <label class="toggle" title="A disabled mailbox acknowledges Graph's notifications but processes nothing; its scans are paused."><input type="checkbox" id="enabled" ${m.enabled === false ? '' : 'checked'}> Enabled</label></div>
      <div id="err"></div>
      <dl class="kv card"><dt>Address</dt><dd>${esc(m.emailAddress || m.sharedMailbox || '(signed-in account)')}</dd>
        <dt>Authority</dt><dd>${esc(typeof m.authority === 'string' ? m.authority : [m.authority.kind, m.authority.loginUrl].filter(Boolean).join(' · '))}</dd>
        ${
          m.method === 'webhooks'
            ? `<dt>Subscription</dt><dd>${badge(sub.status || 'none')} <code>${esc(sub.id || '')}</code></dd><dt>Expires</dt><dd id="expires">${esc(when(sub.expiresAt))}</dd>
             <dt>Renewals</dt><dd>${esc(sub.renewals ?? 0)}</dd><dt>Last error</dt><dd>${esc(sub.error || '—')}</dd>`
            : `<dt>Connected account</dt><dd>${esc(m.connectedAccount || 'not signed in')}</dd><dt>Scan interval</dt><dd>${esc(m.scanIntervalSeconds)} s</dd>`
        }
      </dl>
      <h2>Inbound log</h2><div class="toolbar"><button id="retry-selected">Retry selected</button></div><div id="log"></div>`;
    const run = async (fn, message) => {
      try {
        await fn();
        toast(message);
        setTimeout(() => void pages.mailbox(main, id), 800);
      } catch (err) {
        main.querySelector('#err').innerHTML = errorBox(err);
      }
    };
    const on = (elId, fn) => {
      const el = main.querySelector(`#${elId}`);
      if (el) el.onclick = fn;
    };
    on('create-sub', () =>
      run(() => api('POST', `/mailboxes/${encodeURIComponent(id)}/subscription`, {}), 'Subscription requested.'),
    );
    on('cancel-sub', () =>
      run(() => api('DELETE', `/mailboxes/${encodeURIComponent(id)}/subscription`), 'Subscription cancelled.'),
    );
    on('import', () => run(() => api('POST', `/mailboxes/${encodeURIComponent(id)}/import`, {}), 'Import started.'));
    const enabled = main.querySelector('#enabled');
    enabled.onchange = () =>
      run(
        () => api('PATCH', `/mailboxes/${encodeURIComponent(id)}`, { enabled: enabled.checked }),
        enabled.checked ? 'Mailbox enabled: catching up with new mail.' : 'Mailbox disabled.',
      );
    on('authorize', () =>
      run(async () => {
        const r = await api('POST', `/mailboxes/${encodeURIComponent(id)}/authorize`, {});
        window.open(r.authorizeUrl, '_blank', 'noopener');
      }, 'Sign-in opened in a new tab.'),
    );
    const table = pagedTable(main.querySelector('#log'), {
      selectable: true,
      load: (cursor) => api('GET', `/mailboxes/${encodeURIComponent(id)}/inbound-log${qs({ cursor, limit: 50 })}`),
      columns: [
        ['Seen', (e) => `<a href="#/mail/${esc(e.id)}" class="mail-link">${esc(when(e.firstSeenAt))}</a>`],
        ['From', (e) => esc(e.from ? e.from.address : '—')],
        ['Subject', (e) => esc(e.subject || '(no subject)')],
        ['Status', (e) => badge(e.status)],
        ['Outcome', (e) => esc(e.outcome || '—')],
        ['Ticket', (e) => (e.ticketId ? `<a href="#/tickets/${esc(e.ticketId)}">ticket</a>` : '—')],
        ['', (e) => workflowLink(e.workflowUrl)],
      ],
      empty: 'No emails yet.',
    });
    on('retry-selected', async () => {
      const ids = table.selected().map((e) => e.id);
      if (!ids.length) return toast('Select emails to retry first.');
      await run(() => api('POST', '/inbound-mail/retry', { ids }), `Retry requested for ${ids.length} email(s).`);
    });
  };

  pages.mailDetail = async (main, id) => {
    const e = await api('GET', `/inbound-mail/${encodeURIComponent(id)}`);
    main.innerHTML = `<h1>${esc(e.subject || '(no subject)')} ${badge(e.status)}</h1>
      <div class="toolbar"><button id="retry">Retry</button><a href="#/mailboxes/${esc(e.mailboxId)}">← inbound log</a> ${workflowLink(e.workflowUrl)}</div><div id="err"></div>
      <dl class="kv card"><dt>From</dt><dd>${esc(e.from ? `${e.from.name || ''} <${e.from.address}>` : '—')}</dd><dt>Internet message id</dt><dd><code>${esc(e.internetMessageId || '—')}</code></dd>
        <dt>Outcome</dt><dd>${esc(e.outcome || '—')}</dd><dt>Error</dt><dd>${esc(e.error || '—')}</dd><dt>Ticket</dt><dd>${e.ticketId ? `<a href="#/tickets/${esc(e.ticketId)}">open</a>` : '—'}</dd></dl>
      <h2>Requests</h2><div id="requests">${
        (e.requests || [])
          .map(
            (
              r,
            ) => `<div class="card"><strong>Request ${esc(r.attempt)}</strong> (${esc(r.trigger)}) ${badge(r.status)} <span class="muted">${esc(when(r.startedAt))}</span>
          ${r.error ? `<div class="error-box">${esc(r.error)}</div>` : ''}<pre>${esc((r.log || []).map((l) => (typeof l === 'string' ? l : `${l.at || ''}  ${l.message || JSON.stringify(l)}`)).join('\n'))}</pre>
          ${r.hasRawData ? `<button class="secondary raw" data-attempt="${esc(r.attempt)}">Raw data</button><pre hidden id="raw-${esc(r.attempt)}"></pre>` : ''}</div>`,
          )
          .join('') || '<p class="muted">No requests yet.</p>'
      }</div>`;
    main.querySelectorAll('button.raw').forEach((b) => {
      b.onclick = async () => {
        const r = await api('GET', `/inbound-mail/${encodeURIComponent(id)}/requests/${b.dataset.attempt}`);
        const pre = main.querySelector(`#raw-${b.dataset.attempt}`);
        pre.textContent = JSON.stringify(r.rawData, null, 2);
        pre.hidden = false;
      };
    });
    main.querySelector('#retry').onclick = async () => {
      try {
        await api('POST', `/inbound-mail/${encodeURIComponent(id)}/retry`, {});
        toast('Retry started.');
      } catch (err) {
        main.querySelector('#err').innerHTML = errorBox(err);
      }
    };
  };

  pages.tickets = async (main) => {
    main.innerHTML = '<h1>Tickets</h1><div id="list"></div>';
    pagedTable(main.querySelector('#list'), {
      load: (cursor) => api('GET', `/tickets${qs({ cursor, limit: 50 })}`),
      columns: [
        ['Number', (t) => `<a href="#/tickets/${esc(t.id)}">${esc(t.token || t.number)}</a>`],
        ['Summary', (t) => esc(t.summary)],
        ['Requester', (t) => esc(t.requester ? t.requester.address : '—')],
        ['Status', (t) => badge(t.status)],
        ['Messages', (t) => esc(t.messageCount)],
        ['Updated', (t) => esc(when(t.updatedAt))],
      ],
      empty: 'No tickets yet.',
    });
  };

  const attachmentList = (m) =>
    m.attachments && m.attachments.length
      ? `<div class="muted attachments-title">Attachments</div><ul class="attachments">${m.attachments
          .map((a) =>
            a.stored
              ? `<li><a href="#" class="attachment-link" data-url="${esc(a.url)}" data-name="${esc(a.name)}">${esc(a.name)}</a> <span class="muted">${esc(a.contentType)} · ${esc(size(a.size))}${a.inline ? ' · inline' : ''}</span></li>`
              : `<li class="attachment-skipped">${esc(a.name)} <span class="muted">(${esc(size(a.size))}) ${esc(a.note || 'not stored')}</span></li>`,
          )
          .join('')}</ul>`
      : '';

  pages.ticket = async (main, id) => {
    const t = await api('GET', `/tickets/${encodeURIComponent(id)}`);
    const messages = t.messages || [];
    main.innerHTML = `<h1>${esc(t.token || t.number)} — ${esc(t.summary)}</h1><p class="muted">${esc(t.requester ? t.requester.address : '')} · ${badge(t.status)}</p>
      ${(t.notes || []).map((n) => `<div class="note" role="note">${esc(n.text)}</div>`).join('')}
      ${messages
        .map(
          (
            m,
            i,
          ) => `<div class="card message"><strong>${esc(m.direction)}</strong> <span class="muted">${esc(m.from ? m.from.address : '')} · ${esc(when(m.createdAt || m.receivedAt))}</span><h3>${esc(m.subject || '')}</h3>
            ${m.renderedBody ? `<iframe class="mail-body" sandbox="allow-same-origin" data-index="${i}" title="message body"></iframe>` : `<pre>${esc(m.body || '')}</pre>`}
            ${attachmentList(m)}</div>`,
        )
        .join('')}`;
    // HTML bodies render in a sandbox without scripts or remote content; inline images come as data: URLs.
    for (const frame of main.querySelectorAll('iframe.mail-body')) {
      const m = messages[Number(frame.dataset.index)];
      let html = m.renderedBody;
      for (const a of m.attachments || []) {
        if (!a.stored || !a.url || !html.includes(a.url)) continue;
        try {
          html = html.split(a.url).join(await dataUrl(await attachmentBlob(a.url)));
        } catch {
          /* leave the broken image: the attachment list still offers the file */
        }
      }
      frame.onload = () => {
        const doc = frame.contentDocument;
        if (doc && doc.body) frame.style.height = `${doc.documentElement.scrollHeight + 8}px`;
      };
      // The frame inherits the console's CSP as well as its own: the mail's inline styles are not
      // applied, and the frame's own look comes from a stylesheet file.
      frame.srcdoc = `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'self'"><link rel="stylesheet" href="/console/mail-frame.css">${html}`;
    }
    for (const link of main.querySelectorAll('a.attachment-link')) {
      link.onclick = async (event) => {
        event.preventDefault();
        try {
          const url = window.URL.createObjectURL(await attachmentBlob(link.dataset.url));
          const a = Object.assign(document.createElement('a'), { href: url, download: link.dataset.name });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(() => window.URL.revokeObjectURL(url), 10000);
        } catch (err) {
          toast(`Download failed: ${err.message}`);
        }
      };
    }
  };
})();
