/* Outgoing webhooks: list, create/edit form, deliveries tab, delivery detail with attempts, resend. */
'use strict';

(() => {
  const { esc, api, badge, when, workflowLink, toast, errorBox, pagedTable, qs, pages } = Console;

  pages.webhooks = async (main) => {
    main.innerHTML = `<h1>Webhooks</h1><div class="toolbar"><a class="button" href="#/webhooks/new" id="new-webhook">New webhook</a></div><div id="list"></div>`;
    pagedTable(main.querySelector('#list'), {
      load: (cursor) => api('GET', `/webhooks${qs({ cursor, limit: 50 })}`),
      columns: [
        ['Name', (w) => `<a href="#/webhooks/${esc(w.id)}">${esc(w.name)}</a>`],
        ['Payload URL', (w) => `<code>${esc(w.url)}</code>`],
        ['Events', (w) => esc(w.events.map((e) => e.name).join(', '))],
        ['Payload', (w) => esc(w.payload.type)],
        ['Batching', (w) => esc(w.batching.mode)],
        [
          'Status',
          (w) =>
            badge(w.enabled ? 'enabled' : 'disabled') +
            (w.disabledReason ? ` <span class="muted">${esc(w.disabledReason)}</span>` : ''),
        ],
        ['', (w) => `<a href="#/webhooks/${esc(w.id)}/edit">edit</a>`],
      ],
      empty: 'No webhooks yet.',
    });
  };

  const authFields = (a = { type: 'none' }) => `
    <div class="row"><div><label for="auth-type">Authentication</label><select id="auth-type" name="authType">
      ${['none', 'basic', 'bearer', 'header'].map((t) => `<option value="${t}" ${a.type === t ? 'selected' : ''}>${t}</option>`).join('')}</select></div>
      <div><label for="auth-user">Username / header name</label><input id="auth-user" name="authUser" value="${esc(a.username || a.name || '')}"></div>
      <div><label for="auth-secret">Password / token / header value</label><input id="auth-secret" name="authSecret" type="password"
        placeholder="${a.hasPassword || a.hasToken || a.hasValue ? '(stored — leave empty to keep)' : ''}"></div></div>`;

  function readAuth(form, editing) {
    const type = form.authType.value;
    const user = form.authUser.value.trim();
    const secret = form.authSecret.value;
    if (type === 'basic') return { type, username: user, ...(secret || !editing ? { password: secret } : {}) };
    if (type === 'bearer') return { type, ...(secret || !editing ? { token: secret } : {}) };
    if (type === 'header') return { type, name: user, ...(secret || !editing ? { value: secret } : {}) };
    return { type: 'none' };
  }

  /** One conditions editor per chosen event, created on first choice and kept while the form is open. */
  function eventConditions(container, saved, byKey, operators) {
    const savedByType = new Map(saved.map((ev) => [ev.type, ev]));
    const editors = new Map();
    return {
      show(events) {
        const keys = new Set(events.map((ev) => ev.key));
        for (const ev of events) {
          if (editors.has(ev.key)) continue;
          container.insertAdjacentHTML(
            'beforeend',
            `<div class="card event-conditions" data-event="${esc(ev.key)}"><strong>${esc(ev.name)}</strong> <span class="muted">conditions</span><div></div></div>`,
          );
          const old = savedByType.get(ev.key) || {};
          const el = container.lastElementChild.lastElementChild;
          editors.set(
            ev.key,
            Console.conditionsEditor(el, {
              fields: byKey.get(ev.key).fields,
              operators,
              match: old.match,
              conditions: old.conditions || [],
            }),
          );
        }
        for (const card of container.children) card.hidden = !keys.has(card.dataset.event);
      },
      read: (key) => editors.get(key).read(),
    };
  }

  pages.webhookForm = async (main, id) => {
    const [catalogue, existing] = await Promise.all([
      api('GET', '/event-types'),
      id ? api('GET', `/webhooks/${encodeURIComponent(id)}`) : Promise.resolve(null),
    ]);
    const w = existing || {
      name: '',
      url: '',
      method: 'POST',
      payload: { type: 'small' },
      events: [],
      batching: { mode: 'none' },
      enabled: true,
      lightweightLogs: false,
      autoDisableThreshold: 0,
    };
    const chosen = new Set(w.events.map((e) => e.type));
    main.innerHTML = `<h1>${id ? 'Edit webhook' : 'New webhook'}</h1>
      <form class="card" id="webhook-form">
        <div class="row"><div><label for="name">Webhook name</label><input id="name" name="name" value="${esc(w.name)}" class="wide"></div>
          <div><label for="url">Payload URL</label><input id="url" name="url" value="${esc(w.url)}" class="wide"></div></div>
        <div class="row"><div><label for="method">Method</label><select id="method" name="method">
            ${['POST', 'GET'].map((m) => `<option ${w.method === m ? 'selected' : ''}>${m}</option>`).join('')}</select></div>
          <div><label for="payload">Payload</label><select id="payload" name="payload">
            ${[
              ['small', 'Small object with key fields'],
              ['full', 'Full object with linked objects'],
              ['event_only', 'Event information only'],
              ['custom', 'Custom payload'],
            ]
              .map(([v, l]) => `<option value="${v}" ${w.payload.type === v ? 'selected' : ''}>${l}</option>`)
              .join('')}</select></div>
          <div><label for="lightweight">Use lightweight logs</label><input type="checkbox" id="lightweight" name="lightweight" ${w.lightweightLogs ? 'checked' : ''}></div>
          <div><label for="enabled">Enabled</label><input type="checkbox" id="enabled" name="enabled" ${w.enabled ? 'checked' : ''}></div></div>
        ${authFields(w.authentication)}
        <label>Events</label><div class="row" id="events">${catalogue.data
          .map(
            (e) =>
              `<div><label class="plain"><input type="checkbox" name="event" value="${esc(e.key)}" ${chosen.has(e.key) ? 'checked' : ''}> ${esc(e.name)}</label></div>`,
          )
          .join('')}</div>
        <div id="event-conditions"></div>
        <div id="payload-fields"><label>Custom payload fields</label><div id="field-picker"></div></div>
        <div class="row"><div><label for="batching">Batching</label><select id="batching" name="batching">
            ${[
              ['none', 'One delivery for each occurrence of an event'],
              ['same_event', 'Group occurrences of the same event'],
              ['same_event_type', 'Group occurrences of the same event type'],
              ['any_event', 'Group occurrences of any event'],
            ]
              .map(([v, l]) => `<option value="${v}" ${w.batching.mode === v ? 'selected' : ''}>${l}</option>`)
              .join('')}</select></div>
          <div><label for="wait">Batch wait seconds</label><input id="wait" name="wait" type="number" min="1" value="${esc(w.batching.waitSeconds ?? 10)}"></div>
          <div><label for="max">Maximum items per batch</label><input id="max" name="max" type="number" min="1" value="${esc(w.batching.maxItems ?? 100)}"></div>
          <div><label for="auto-disable">Auto-disable after N failures (0 = never)</label><input id="auto-disable" name="autoDisable" type="number" min="0" value="${esc(w.autoDisableThreshold ?? 0)}"></div></div>
        <div class="row"><div><label for="concurrency">Requests in flight at most</label><input id="concurrency" name="concurrency" type="number" min="1" max="100" value="${esc(w.concurrencyLimit ?? 10)}"></div>
          <div><label for="rate">Requests per second at most (empty = no limit)</label><input id="rate" name="rate" type="number" min="0.001" step="any" value="${esc(w.rateLimitPerSecond ?? '')}"></div>
          <div><label for="fifo">Strict ordering (the next waits for the previous)</label><input type="checkbox" id="fifo" name="fifo" ${w.strictOrdering ? 'checked' : ''}></div></div>
        <div id="form-error"></div>
        <p><button type="submit" id="save">Save</button> <a href="#/webhooks">Cancel</a></p>
      </form>`;
    const form = main.querySelector('#webhook-form');
    const byKey = new Map(catalogue.data.map((ev) => [ev.key, ev]));
    const checkedEvents = () =>
      [...form.querySelectorAll('[name=event]:checked')].map((c) => byKey.get(c.value)).filter(Boolean);
    const editors = eventConditions(
      main.querySelector('#event-conditions'),
      w.events,
      byKey,
      catalogue.conditionOperators,
    );
    const picker = Console.fieldPicker(main.querySelector('#field-picker'), { selected: w.payload.fields || [] });
    const syncEvents = () => {
      const events = checkedEvents();
      editors.show(events);
      const objects = [
        ...new Map(events.map((ev) => [ev.objectType, { objectType: ev.objectType, fields: ev.fields }])).values(),
      ];
      picker.render(objects);
      main.querySelector('#payload-fields').hidden = form.payload.value !== 'custom';
    };
    main.querySelector('#events').onchange = syncEvents;
    form.payload.onchange = syncEvents;
    syncEvents();
    form.onsubmit = async (e) => {
      e.preventDefault();
      const batchingMode = form.batching.value;
      const body = {
        name: form.name.value,
        url: form.url.value,
        method: form.method.value,
        payload:
          form.payload.value === 'custom' ? { type: 'custom', fields: picker.read() } : { type: form.payload.value },
        lightweightLogs: form.lightweight.checked,
        enabled: form.enabled.checked,
        authentication: readAuth(form, Boolean(id)),
        events: checkedEvents().map((ev) => ({ type: ev.key, ...editors.read(ev.key) })),
        batching:
          batchingMode === 'none'
            ? { mode: 'none' }
            : { mode: batchingMode, waitSeconds: Number(form.wait.value), maxItems: Number(form.max.value) },
        autoDisableThreshold: Number(form.autoDisable.value),
        concurrencyLimit: Number(form.concurrency.value),
        rateLimitPerSecond: form.rate.value === '' ? null : Number(form.rate.value),
        strictOrdering: form.fifo.checked,
      };
      try {
        const saved = await api(id ? 'PATCH' : 'POST', id ? `/webhooks/${encodeURIComponent(id)}` : '/webhooks', body);
        toast(saved.signingSecret ? `Saved. Signing secret (shown once): ${saved.signingSecret}` : 'Saved.');
        location.hash = `#/webhooks/${saved.id}`;
      } catch (err) {
        main.querySelector('#form-error').innerHTML = errorBox(err);
      }
    };
  };

  pages.webhookDeliveries = async (main, id) => {
    const w = await api('GET', `/webhooks/${encodeURIComponent(id)}`);
    main.innerHTML = `<h1>${esc(w.name)} ${badge(w.enabled ? 'enabled' : 'disabled')}</h1>
      <p class="muted"><code>${esc(w.method)} ${esc(w.url)}</code> · <a href="#/webhooks/${esc(w.id)}/edit">edit</a></p>
      <section class="card" id="lane" hidden></section>
      <div class="tabs"><a class="active">Deliveries</a></div>
      <div class="toolbar"><select id="status"><option value="">All statuses</option>${[
        'pending',
        'in_flight',
        'retrying',
        'succeeded',
        'failed',
        'held',
      ]
        .map((s) => `<option>${s}</option>`)
        .join('')}</select><button class="secondary" id="apply">Filter</button>
        <button id="resend-selected">Resend selected</button><button class="secondary" id="refresh">Refresh</button></div>
      <div id="deliveries"></div><div id="err"></div>`;
    void Console.lanePanel(main.querySelector('#lane'), w.id);
    const table = pagedTable(main.querySelector('#deliveries'), {
      selectable: true,
      load: (cursor) =>
        api(
          'GET',
          `/webhooks/${encodeURIComponent(id)}/deliveries${qs({ status: main.querySelector('#status').value, cursor, limit: 50 })}`,
        ),
      columns: [
        ['Created', (d) => `<a href="#/deliveries/${esc(d.id)}" class="delivery-link">${esc(when(d.createdAt))}</a>`],
        ['Event', (d) => esc(d.event || `batch of ${d.itemCount}`)],
        ['Object', (d) => esc(d.objectId || '—')],
        ['Status', (d) => badge(d.status)],
        ['Attempts', (d) => esc(d.attemptCount)],
        ['Last answer', (d) => esc(d.lastResponseStatus ?? d.lastError ?? '—')],
        ['', (d) => workflowLink(d.workflowUrl)],
      ],
      empty: 'No deliveries yet.',
    });
    main.querySelector('#apply').onclick = () => table.reload();
    main.querySelector('#refresh').onclick = () => table.reload();
    main.querySelector('#resend-selected').onclick = async () => {
      const ids = table.selected().map((d) => d.id);
      if (!ids.length) return toast('Select deliveries to resend first.');
      try {
        const r = await api('POST', `/webhooks/${encodeURIComponent(id)}/deliveries/resend`, { ids });
        toast(`Resent ${r.resent.length}; refused ${r.refused.length}.`);
        table.reload();
      } catch (err) {
        main.querySelector('#err').innerHTML = errorBox(err);
      }
    };
  };

  pages.delivery = async (main, id) => {
    const d = await api('GET', `/deliveries/${encodeURIComponent(id)}`);
    main.innerHTML = `<h1>Delivery ${badge(d.status)}</h1>
      <div class="toolbar"><button id="resend">Resend</button><a href="#/webhooks/${esc(d.webhookId)}">← deliveries</a> ${workflowLink(d.workflowUrl)}</div>
      <div id="err"></div>
      <dl class="kv card"><dt>Event</dt><dd>${esc(d.event || `batch of ${d.itemCount}`)}</dd><dt>Object</dt><dd>${esc(d.objectId || '—')}</dd>
      <dt>Delivery id (webhook-id)</dt><dd><code>${esc(d.id)}</code></dd><dt>Attempts</dt><dd>${esc(d.attemptCount)}</dd>
      <dt>Next attempt</dt><dd>${esc(when(d.nextAttemptAt))}</dd><dt>Created</dt><dd>${esc(when(d.createdAt))}</dd></dl>
      <h2>Attempts</h2>${
        (d.attempts || [])
          .map(
            (
              a,
            ) => `<div class="card attempt"><strong>Attempt ${esc(a.attempt)}</strong> ${badge(a.status)} <span class="muted">${esc(when(a.startedAt))} · ${esc(a.durationMs ?? '—')} ms</span>
          ${a.error ? `<div class="error-box">${esc(a.error)}</div>` : ''}
          ${a.request ? `<details><summary>Request</summary><pre>${esc(JSON.stringify(a.request, null, 2))}</pre></details>` : ''}
          ${a.response ? `<details open><summary>Response ${esc(a.response.status)}</summary><pre>${esc(JSON.stringify(a.response.headers, null, 2))}\n\n${esc(a.response.body || '')}</pre></details>` : ''}</div>`,
          )
          .join('') || '<p class="muted">No attempts yet.</p>'
      }`;
    main.querySelector('#resend').onclick = async () => {
      try {
        await api('POST', `/deliveries/${encodeURIComponent(id)}/resend`, {});
        toast('Resend started.');
        setTimeout(() => void pages.delivery(main, id), 1500);
      } catch (err) {
        main.querySelector('#err').innerHTML = errorBox(err);
      }
    };
  };
})();
