/* Integrations, integration inbound requests, and the incoming webhook log (details, attempts, resource data, retry). */
'use strict';

(() => {
  const { esc, api, badge, when, workflowLink, toast, errorBox, pagedTable, qs, pages } = Console;

  pages.integrations = async (main) => {
    const { data } = await api('GET', '/integrations');
    main.innerHTML = `<h1>Integrations</h1>
      <table><thead><tr><th>Name</th><th>Provider</th><th>Method</th><th>Status</th><th>Ingress URL</th></tr></thead><tbody>
      ${
        data
          .map(
            (i) => `<tr><td><a href="#/integrations/${esc(i.id)}">${esc(i.name)}</a></td><td>${esc(i.provider)}</td>
          <td>${esc(i.processingMethod)}</td><td>${badge(i.enabled ? 'enabled' : 'disabled')}</td><td><code>${esc(i.ingressUrl)}</code></td></tr>`,
          )
          .join('') || '<tr><td colspan="5" class="muted">No integrations yet: create one through the API.</td></tr>'
      }
      </tbody></table>`;
  };

  pages.integration = async (main, id) => {
    const i = await api('GET', `/integrations/${encodeURIComponent(id)}`);
    main.innerHTML = `<h1>${esc(i.name)} <span class="muted">(${esc(i.provider)})</span></h1>
      <dl class="kv card"><dt>Processing method</dt><dd>${esc(i.processingMethod)}</dd><dt>Ingress URL</dt><dd><code>${esc(i.ingressUrl)}</code></dd>
      <dt>Status</dt><dd>${badge(i.enabled ? 'enabled' : 'disabled')}</dd></dl>
      <p><a href="#/incoming?integrationId=${esc(i.id)}" id="to-log">Incoming webhook log for this integration →</a></p>
      ${i.provider === 'generic' ? '' : '<h2>Connection</h2><div id="connection" class="card"><p class="muted">Loading…</p></div>'}
      <h2>Integration inbound requests</h2><div id="requests"></div>`;
    if (i.provider !== 'generic') void renderConnection(main.querySelector('#connection'), i);
    main.querySelector('#to-log').href = `#/incoming`;
    main.querySelector('#to-log').onclick = () => sessionStorage.setItem('switchyard.incomingFilter', i.id);
    pagedTable(main.querySelector('#requests'), {
      load: (cursor) => api('GET', `/inbound-requests${qs({ integrationId: i.id, cursor, limit: 25 })}`),
      columns: [
        ['Received', (r) => esc(when(r.receivedAt))],
        ['Outcome', (r) => badge(r.outcome)],
        ['Answer', (r) => esc(r.responseStatus)],
        ['Bytes', (r) => esc(r.bodyBytes)],
        [
          'Body',
          (r) =>
            `<details><summary>show</summary><pre>${esc(r.body)}</pre><p class="muted">Answer: ${esc(r.responseBody || '(empty)')}</p></details>`,
        ],
      ],
      empty: 'No requests received yet.',
    });
  };

  const PROVIDER_NAMES = { xero: 'Xero', quickbooks: 'QuickBooks' };
  const METHOD_TEXT = {
    connect: 'by signing in (Connect)',
    refresh_token: 'with a refresh token set through the API',
    client_credentials: 'with client credentials (custom connection)',
  };

  /** "Connect to Xero/QuickBooks", the Xero organisation chooser and "Disconnect". */
  async function renderConnection(box, i) {
    const name = PROVIDER_NAMES[i.provider] || i.provider;
    let c;
    try {
      c = await api('GET', `/integrations/${encodeURIComponent(i.id)}/connection`);
    } catch (err) {
      box.innerHTML = errorBox(err);
      return;
    }
    const lines = c.connected
      ? `<p>${badge('connected')} Connected ${esc(METHOD_TEXT[c.method] || c.method)}${c.connectedAt ? ` on ${esc(when(c.connectedAt))}` : ''}.</p>
         ${c.tenantId ? `<p>${i.provider === 'xero' ? 'Organisation' : 'Company (realm)'}: <code id="connected-tenant">${esc(c.tenantId)}</code></p>` : ''}`
      : `<p>${badge('disconnected')} Not connected: ${esc(name)} data cannot be fetched until someone signs in.</p>`;
    box.innerHTML = `${lines}${c.lastError ? `<div class="error-box">Last token error: ${esc(c.lastError)}</div>` : ''}
      <div id="tenant-chooser"></div>
      <div class="toolbar">
        ${c.method === 'client_credentials' ? '' : `<button id="connect">${c.connected ? 'Reconnect' : 'Connect'} to ${esc(name)}</button>`}
        ${c.connected && c.method !== 'client_credentials' ? '<button class="secondary" id="disconnect">Disconnect</button>' : ''}
      </div><div id="connection-error"></div>`;
    const fail = (err) => (box.querySelector('#connection-error').innerHTML = errorBox(err));
    const connect = box.querySelector('#connect');
    if (connect) {
      connect.onclick = async () => {
        try {
          const started = await api('POST', `/integrations/${encodeURIComponent(i.id)}/connect`, {
            returnTo: `/console/#/integrations/${i.id}`,
          });
          location.href = started.authorizeUrl;
        } catch (err) {
          fail(err);
        }
      };
    }
    const disconnect = box.querySelector('#disconnect');
    if (disconnect) {
      disconnect.onclick = async () => {
        if (!window.confirm(`Disconnect from ${name}? The access is revoked at ${name}.`)) return;
        try {
          const r = await api('POST', `/integrations/${encodeURIComponent(i.id)}/disconnect`, {});
          toast(r.message);
          void renderConnection(box, i);
        } catch (err) {
          fail(err);
        }
      };
    }
    if (i.provider === 'xero' && c.method === 'connect') await renderTenantChooser(box, i, c, fail);
  }

  async function renderTenantChooser(box, i, c, fail) {
    const holder = box.querySelector('#tenant-chooser');
    let tenants;
    try {
      tenants = (await api('GET', `/integrations/${encodeURIComponent(i.id)}/connection/tenants`)).data;
    } catch (err) {
      return fail(err);
    }
    if (tenants.length < 2 && !c.tenantChoiceNeeded) return;
    holder.innerHTML = `${c.tenantChoiceNeeded ? '<p><strong>Choose the Xero organisation this integration processes.</strong></p>' : ''}
      <div class="toolbar"><select id="tenant">${tenants
        .map(
          (t) =>
            `<option value="${esc(t.tenantId)}" ${t.tenantId === c.tenantId ? 'selected' : ''}>${esc(t.tenantName || t.tenantId)}</option>`,
        )
        .join('')}</select><button id="choose-tenant">Use this organisation</button></div>`;
    box.querySelector('#choose-tenant').onclick = async () => {
      try {
        const r = await api('PUT', `/integrations/${encodeURIComponent(i.id)}/connection/tenant`, {
          tenantId: box.querySelector('#tenant').value,
        });
        toast(`Processing ${r.tenant.tenantName || r.tenant.tenantId}.`);
        void renderConnection(box, i);
      } catch (err) {
        fail(err);
      }
    };
  }

  pages.incomingLog = async (main) => {
    const integrationId = sessionStorage.getItem('switchyard.incomingFilter') || '';
    sessionStorage.removeItem('switchyard.incomingFilter');
    main.innerHTML = `<h1>Incoming webhook log</h1>
      <div class="toolbar">
        <select id="status"><option value="">All statuses</option>${[
          'queued',
          'processing',
          'succeeded',
          'failed',
          'stale',
        ]
          .map((s) => `<option>${s}</option>`)
          .join('')}</select>
        <input id="entity" placeholder="Entity id">
        <input id="integration" placeholder="Integration id" value="${esc(integrationId)}" size="38">
        <button class="secondary" id="apply">Filter</button>
        <button id="retry-selected">Retry selected</button>
      </div><div id="log"></div>`;
    const filters = () => ({
      status: main.querySelector('#status').value,
      entityId: main.querySelector('#entity').value.trim(),
      integrationId: main.querySelector('#integration').value.trim(),
    });
    const table = pagedTable(main.querySelector('#log'), {
      selectable: true,
      load: (cursor) => api('GET', `/incoming-webhooks${qs({ ...filters(), cursor, limit: 50 })}`),
      columns: [
        ['Received', (w) => `<a href="#/incoming/${esc(w.id)}">${esc(when(w.receivedAt))}</a>`],
        ['Provider', (w) => esc(w.provider)],
        ['Event', (w) => esc(w.eventType || '—')],
        ['Entity', (w) => esc(w.entityId || '—')],
        ['Method', (w) => esc(w.processingMethod)],
        ['Status', (w) => badge(w.status)],
        ['Attempts', (w) => `${esc(w.attemptsMade)} / ${esc(w.attemptsAllowed)}`],
        ['Automatic attempts remaining', (w) => esc(w.automaticAttemptsRemaining)],
        ['', (w) => workflowLink(w.workflowUrl)],
      ],
      empty: 'No incoming webhooks match.',
    });
    main.querySelector('#apply').onclick = () => table.reload();
    main.querySelector('#retry-selected').onclick = async () => {
      const ids = table.selected().map((w) => w.id);
      if (!ids.length) return toast('Select webhooks to retry first.');
      try {
        const r = await api('POST', '/incoming-webhooks/retry', { ids });
        toast(`Retry started for ${r.retried ?? ids.length} webhook(s).`);
        table.reload();
      } catch (err) {
        toast(err.message);
      }
    };
  };

  pages.incomingDetail = async (main, id, tab) => {
    const w = await api('GET', `/incoming-webhooks/${encodeURIComponent(id)}`);
    const tabs = ['details', 'attempts', 'resource-data']
      .map(
        (t) => `<a href="#/incoming/${esc(w.id)}/${t}" class="${t === tab ? 'active' : ''}">${t.replace('-', ' ')}</a>`,
      )
      .join('');
    let body;
    if (tab === 'details') {
      body = `<dl class="kv card"><dt>Status</dt><dd>${badge(w.status)}</dd><dt>Provider</dt><dd>${esc(w.provider)}</dd>
        <dt>Event</dt><dd>${esc(w.eventType || '—')}</dd><dt>Entity</dt><dd>${esc(w.entityType || '')} ${esc(w.entityId || '—')}</dd>
        <dt>Processing method</dt><dd>${esc(w.processingMethod)}</dd><dt>Attempts</dt><dd>${esc(w.attemptsMade)} of ${esc(w.attemptsAllowed)}</dd>
        <dt>Automatic attempts remaining</dt><dd>${esc(w.automaticAttemptsRemaining)}</dd><dt>Error</dt><dd>${esc(w.error || '—')}</dd>
        <dt>Received</dt><dd>${esc(when(w.receivedAt))}</dd><dt>Processed</dt><dd>${esc(when(w.processedAt))}</dd>
        <dt>Workflow</dt><dd><code>${esc(w.workflowId)}</code> ${workflowLink(w.workflowUrl)}</dd></dl>
        <h2>Payload</h2><pre>${esc(w.payload)}</pre><h2>Result</h2><pre>${esc(JSON.stringify(w.result, null, 2))}</pre>`;
    } else if (tab === 'attempts') {
      body =
        (w.attempts || [])
          .map(
            (
              a,
            ) => `<div class="card"><strong>Attempt ${esc(a.attempt)}</strong> ${badge(a.status)} <span class="muted">${esc(when(a.startedAt))} → ${esc(when(a.finishedAt))}</span>
          ${a.error ? `<div class="error-box">${esc(a.error)}</div>` : ''}<pre>${esc((a.log || []).map((l) => `${l.at}  ${l.message}`).join('\n'))}</pre></div>`,
          )
          .join('') || '<p class="muted">No attempts yet.</p>';
    } else {
      const resources = w.resourceData || [];
      body = resources.length
        ? resources
            .map(
              (r) =>
                `<div class="card"><strong>${esc(r.entityType || '')} ${esc(r.entityId || '')}</strong> <span class="muted">downloaded ${esc(when(r.downloadedAt))}</span><pre>${esc(JSON.stringify(r.data, null, 2))}</pre></div>`,
            )
            .join('')
        : '<p class="muted">No resource data was fetched for this webhook.</p>';
    }
    main.innerHTML = `<h1>Incoming webhook</h1>
      <div class="toolbar"><button id="retry">Retry</button><a href="#/incoming">← back to the log</a></div>
      <div class="tabs">${tabs}</div><div id="tab">${body}</div><div id="err"></div>`;
    main.querySelector('#retry').onclick = async () => {
      try {
        await api('POST', `/incoming-webhooks/${encodeURIComponent(w.id)}/retry`, {});
        toast('Retry started.');
        setTimeout(() => void pages.incomingDetail(main, id, 'attempts'), 1500);
      } catch (err) {
        main.querySelector('#err').innerHTML = errorBox(err);
      }
    };
  };
})();
