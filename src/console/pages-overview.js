/* Overview: deliveries and latency per hour (in total or for one webhook), incoming webhooks by status, intake backlog, mailbox expiry, newest errors. */
'use strict';

(() => {
  const { esc, api, badge, when, pagedTable, qs, pages, charts } = Console;

  const count = (v) => (v === null || v === undefined ? '—' : String(v));
  const ms = (v) => (v === null || v === undefined ? '—' : v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);
  const duration = (seconds) => {
    if (seconds === null || seconds === undefined) return '—';
    const s = Math.abs(seconds);
    const text =
      s >= 86400
        ? `${(s / 86400).toFixed(1)} d`
        : s >= 3600
          ? `${(s / 3600).toFixed(1)} h`
          : s >= 60
            ? `${Math.round(s / 60)} min`
            : `${s} s`;
    return seconds < 0 ? `expired ${text} ago` : text;
  };

  const ERROR_LINKS = {
    delivery: (e) => `#/deliveries/${e.id}`,
    incoming_webhook: (e) => `#/incoming/${e.id}`,
    inbound_mail: (e) => `#/mail/${e.id}`,
    outbound_mail: (e) => `#/tickets/${e.parentId}`,
  };
  const ERROR_KINDS = {
    delivery: 'Delivery',
    incoming_webhook: 'Incoming webhook',
    inbound_mail: 'Inbound email',
    outbound_mail: 'Reply email',
  };

  async function drawDeliveries(main, state) {
    const stats = await api('GET', `/stats/deliveries${qs({ hours: state.hours, webhookId: state.webhookId })}`);
    const hours = stats.hours.map((h) => h.start);
    const pick = (key) => stats.hours.map((h) => h[key]);
    charts.hourlyChart(main.querySelector('#chart-deliveries'), {
      hours,
      stacked: true,
      unit: 'deliveries',
      format: count,
      summary: stats.total,
      series: [
        { key: 'succeeded', label: 'Succeeded', values: pick('succeeded') },
        { key: 'failed', label: 'Failed', values: pick('failed') },
        { key: 'inProgress', label: 'In progress', values: pick('inProgress') },
        { key: 'held', label: 'Held', values: pick('held') },
      ],
    });
    charts.hourlyChart(main.querySelector('#chart-latency'), {
      hours,
      unit: 'ms',
      format: ms,
      summary: { p50: stats.total.p50Ms, p95: stats.total.p95Ms, p99: stats.total.p99Ms },
      series: [
        { key: 'p50', label: 'p50', values: pick('p50Ms') },
        { key: 'p95', label: 'p95', values: pick('p95Ms') },
        { key: 'p99', label: 'p99', values: pick('p99Ms') },
      ],
    });
    if (!state.webhookId) {
      const select = main.querySelector('#webhook-filter');
      select.innerHTML = `<option value="">All webhooks</option>${stats.webhooks.map((w) => `<option value="${esc(w.webhookId)}">${esc(w.name)}</option>`).join('')}`;
      main.querySelector('#per-webhook').innerHTML =
        `<table><thead><tr><th>Webhook</th><th>Succeeded</th><th>Failed</th><th>In progress</th><th>Held</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>${
          stats.webhooks
            .map(
              (
                w,
              ) => `<tr><td><a href="#/webhooks/${esc(w.webhookId)}">${esc(w.name)}</a></td><td>${w.succeeded}</td><td>${w.failed}</td><td>${w.inProgress}</td><td>${w.held}</td>
              <td>${esc(ms(w.p50Ms))}</td><td>${esc(ms(w.p95Ms))}</td><td>${esc(ms(w.p99Ms))}</td></tr>`,
            )
            .join('') || '<tr><td colspan="8" class="muted">No deliveries in this window.</td></tr>'
        }</tbody></table>`;
    }
  }

  async function drawIncoming(main, state) {
    const stats = await api('GET', `/stats/incoming${qs({ hours: state.hours })}`);
    const pick = (key) => stats.hours.map((h) => h[key]);
    charts.hourlyChart(main.querySelector('#chart-incoming'), {
      hours: stats.hours.map((h) => h.start),
      stacked: true,
      unit: 'webhooks',
      format: count,
      summary: stats.total,
      series: ['succeeded', 'failed', 'queued', 'processing', 'stale', 'other'].map((key) => ({
        key,
        label: key.charAt(0).toUpperCase() + key.slice(1),
        values: pick(key),
      })),
    });
  }

  async function drawBacklog(main) {
    const b = await api('GET', '/stats/intake');
    const tile = (
      id,
      label,
      x,
    ) => `<div class="tile" id="${id}"><div class="tile-value">${esc(x.pending)}</div><div>${esc(label)}</div>
      <div class="muted">${x.pending ? `oldest waiting ${esc(duration(x.oldestAgeSeconds))}` : 'nothing waiting'}</div></div>`;
    main.querySelector('#backlog').innerHTML =
      `<div class="tiles">${tile('backlog-intake', 'Intake backlog', b)}${tile('backlog-incoming', 'Incoming webhooks queued', b.queued.incomingWebhooks)}${tile('backlog-mail', 'Emails queued', b.queued.inboundMail)}</div>`;
  }

  async function drawMailboxes(main) {
    const { data } = await api('GET', '/stats/mailboxes');
    // Bars are scaled to the longest expiry shown (Graph keeps mail subscriptions under three days).
    const longest = Math.max(3 * 86400, ...data.map((m) => m.secondsToExpiry || 0));
    main.querySelector('#mailbox-expiry').innerHTML = data.length
      ? `<table><thead><tr><th>Mailbox</th><th>Subscription</th><th>Time to expiry</th><th></th></tr></thead><tbody>${data
          .map((m) => {
            const left = m.secondsToExpiry;
            const pct = left === null ? 0 : Math.max(0, Math.min(100, (left / longest) * 100));
            const tone = left === null ? '' : left < 3600 ? 'bad' : left < 6 * 3600 ? 'warn' : 'ok';
            return `<tr data-mailbox="${esc(m.id)}"><td><a href="#/mailboxes/${esc(m.id)}">${esc(m.name)}</a> <span class="muted">${esc(m.emailAddress || '')}</span></td>
              <td>${m.method === 'scan' ? '<span class="muted">scan (no subscription)</span>' : badge(m.subscriptionStatus)}</td>
              <td class="expiry">${esc(m.method === 'scan' ? '—' : duration(left))}</td>
              <td class="meter-cell"><div class="meter"><div class="meter-fill ${tone}" data-pct="${pct.toFixed(1)}"></div></div></td></tr>`;
          })
          .join('')}</tbody></table>`
      : '<p class="muted">No mailboxes.</p>';
    // Widths through the DOM, not a style attribute: the console's CSP allows no inline style.
    for (const fill of main.querySelectorAll('#mailbox-expiry .meter-fill[data-pct]')) {
      fill.style.width = `${fill.dataset.pct}%`;
    }
  }

  function drawErrors(main) {
    pagedTable(main.querySelector('#errors'), {
      load: (cursor) => api('GET', `/stats/errors${qs({ cursor, limit: 10 })}`),
      columns: [
        ['When', (e) => `<a href="${esc(ERROR_LINKS[e.kind] ? ERROR_LINKS[e.kind](e) : '#/')}">${esc(when(e.at))}</a>`],
        [
          'What',
          (e) =>
            `${esc(ERROR_KINDS[e.kind] || e.kind)}${e.parentName ? ` <span class="muted">· ${esc(e.parentName)}</span>` : ''}`,
        ],
        ['Item', (e) => esc(e.title)],
        ['Error', (e) => `<span class="error-text">${esc(e.error || '—')}</span>`],
      ],
      empty: 'No failures. ',
    });
  }

  pages.overview = async (main) => {
    const state = { hours: 24, webhookId: '' };
    main.innerHTML = `<h1>Overview</h1>
      <div class="toolbar"><label class="inline">Window <select id="hours">${[
        [24, 'last 24 hours'],
        [72, 'last 3 days'],
        [168, 'last 7 days'],
      ]
        .map(([v, l]) => `<option value="${v}">${l}</option>`)
        .join('')}</select></label>
        <label class="inline">Deliveries for <select id="webhook-filter"><option value="">All webhooks</option></select></label>
        <button class="secondary" id="refresh">Refresh</button></div>
      <div class="grid2">
        <section class="card"><h2>Deliveries per hour by outcome</h2><div id="chart-deliveries" class="chart"></div></section>
        <section class="card"><h2>Delivery latency (created → delivered)</h2><div id="chart-latency" class="chart"></div></section>
        <section class="card"><h2>Incoming webhooks by status</h2><div id="chart-incoming" class="chart"></div></section>
        <section class="card"><h2>Intake backlog</h2><div id="backlog"></div></section>
      </div>
      <section class="card"><h2>Deliveries per webhook</h2><div id="per-webhook"></div></section>
      <section class="card"><h2>Mailbox subscriptions</h2><div id="mailbox-expiry"></div></section>
      <section class="card"><h2>Latest errors</h2><div id="errors"></div></section>`;
    const all = () =>
      Promise.all([drawDeliveries(main, state), drawIncoming(main, state), drawBacklog(main), drawMailboxes(main)]);
    main.querySelector('#hours').onchange = (e) => {
      state.hours = Number(e.target.value);
      state.webhookId = '';
      void all();
    };
    main.querySelector('#webhook-filter').onchange = (e) => {
      state.webhookId = e.target.value;
      void drawDeliveries(main, state);
    };
    main.querySelector('#refresh').onclick = () => {
      void all();
      drawErrors(main);
    };
    drawErrors(main);
    await all();
  };
})();
