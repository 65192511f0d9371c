/* Mailboxes (subscription, authorize, import, inbound log with requests) and tickets. */
'use strict';

(() => {
  const { esc, api, badge, when, workflowLink, toast, errorBox, pagedTable, qs, pages } = Console;

  pages.mailboxes = async (main) => {
    const { data } = await api('GET', '/mailboxes');
    main.innerHTML = `<h1>Mailboxes</h1><table><thead><tr><th>Name</th><th>Method</th><th>Address</th><th>Subscription</th><th>Expires</th></tr></thead><tbody>
      ${data
        .map(
          (m) => `<tr><td><a href="#/mailboxes/${esc(m.id)}">${esc(m.name)}</a></td><td>${esc(m.method)}</td><td>${esc(m.emailAddress || m.sharedMailbox || '—')}</td>
          <td>${m.subscription ? badge(m.subscription.status || 'none') : '—'}</td><td>${esc(when(m.subscription && m.subscription.expiresAt))}</td></tr>`,
        )
        .join('') || '<tr><td colspan="5" class="muted">No mailboxes yet: create one through the API.</td></tr>'}</tbody></table>`;
  };

  pages.mailbox = async (main, id) => {
    const m = await api('GET', `/mailboxes/${encodeURIComponent(id)}`);
    const sub = m.subscription || {};
    main.innerHTML = `<h1>${esc(m.name)} <span class="muted">(${esc(m.method)})</span></h1>
      <div class="toolbar">
        ${m.method === 'webhooks' ? '<button id="create-sub">Create subscription</button><button class="secondary" id="cancel-sub">Cancel subscription</button>' : '<button id="authorize">Authorize application</button>'}
        <button class="secondary" id="import">Import emails now</button></div>
      <div id="err"></div>
      <dl class="kv card"><dt>Address</dt><dd>${esc(m.emailAddress || m.sharedMailbox || '(signed-in account)')}</dd>
        <dt>Authority</dt><dd>${esc(typeof m.authority === 'string' ? m.authority : [m.authority.kind, m.authority.loginUrl].filter(Boolean).join(' · '))}</dd>
        ${m.method === 'webhooks'
          ? `<dt>Subscription</dt><dd>${badge(sub.status || 'none')} <code>${esc(sub.id || '')}</code></dd><dt>Expires</dt><dd id="expires">${esc(when(sub.expiresAt))}</dd>
             <dt>Renewals</dt><dd>${esc(sub.renewals ?? 0)}</dd><dt>Last error</dt><dd>${esc(sub.error || '—')}</dd>`
          : `<dt>Connected account</dt><dd>${esc(m.connectedAccount || 'not signed in')}</dd><dt>Scan interval</dt><dd>${esc(m.scanIntervalSeconds)} s</dd>`}
      </dl>
      <h2>Inbound log</h2><div class="toolbar"><button id="retry-selected">Retry selected</button></div><div id="log"></div>`;
    const run = async (fn, message) => {
      try {
        await fn();
        toast(message);
        setTimeout(() => void pages.mailbox(main, id), 800);
      } catch (err) {
        document.getElementById('err').innerHTML = errorBox(err);
      }
    };
    const on = (elId, fn) => {
      const el = document.getElementById(elId);
      if (el) el.onclick = fn;
    };
    on('create-sub', () => run(() => api('POST', `/mailboxes/${encodeURIComponent(id)}/subscription`, {}), 'Subscription requested.'));
    on('cancel-sub', () => run(() => api('DELETE', `/mailboxes/${encodeURIComponent(id)}/subscription`), 'Subscription cancelled.'));
    on('import', () => run(() => api('POST', `/mailboxes/${encodeURIComponent(id)}/import`, {}), 'Import started.'));
    on('authorize', () =>
      run(async () => {
        const r = await api('POST', `/mailboxes/${encodeURIComponent(id)}/authorize`, {});
        window.open(r.authorizeUrl, '_blank', 'noopener');
      }, 'Sign-in opened in a new tab.'),
    );
    const table = pagedTable(document.getElementById('log'), {
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
      <h2>Requests</h2><div id="requests">${(e.requests || [])
        .map(
          (r) => `<div class="card"><strong>Request ${esc(r.attempt)}</strong> (${esc(r.trigger)}) ${badge(r.status)} <span class="muted">${esc(when(r.startedAt))}</span>
          ${r.error ? `<div class="error-box">${esc(r.error)}</div>` : ''}<pre>${esc((r.log || []).map((l) => (typeof l === 'string' ? l : `${l.at || ''}  ${l.message || JSON.stringify(l)}`)).join('\n'))}</pre>
          ${r.hasRawData ? `<button class="secondary raw" data-attempt="${esc(r.attempt)}">Raw data</button><pre hidden id="raw-${esc(r.attempt)}"></pre>` : ''}</div>`,
        )
        .join('') || '<p class="muted">No requests yet.</p>'}</div>`;
    document.querySelectorAll('button.raw').forEach((b) => {
      b.onclick = async () => {
        const r = await api('GET', `/inbound-mail/${encodeURIComponent(id)}/requests/${b.dataset.attempt}`);
        const pre = document.getElementById(`raw-${b.dataset.attempt}`);
        pre.textContent = JSON.stringify(r.rawData, null, 2);
        pre.hidden = false;
      };
    });
    document.getElementById('retry').onclick = async () => {
      try {
        await api('POST', `/inbound-mail/${encodeURIComponent(id)}/retry`, {});
        toast('Retry started.');
      } catch (err) {
        document.getElementById('err').innerHTML = errorBox(err);
      }
    };
  };

  pages.tickets = async (main) => {
    main.innerHTML = '<h1>Tickets</h1><div id="list"></div>';
    pagedTable(document.getElementById('list'), {
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

  pages.ticket = async (main, id) => {
    const t = await api('GET', `/tickets/${encodeURIComponent(id)}`);
    main.innerHTML = `<h1>${esc(t.token || t.number)} — ${esc(t.summary)}</h1><p class="muted">${esc(t.requester ? t.requester.address : '')} · ${badge(t.status)}</p>
      ${(t.messages || [])
        .map((m) => `<div class="card"><strong>${esc(m.direction)}</strong> <span class="muted">${esc(m.from ? m.from.address : '')} · ${esc(when(m.createdAt || m.receivedAt))}</span><h3>${esc(m.subject || '')}</h3><pre>${esc(m.body || '')}</pre></div>`)
        .join('')}`;
  };
})();
