/* The delivery lane of one webhook (GET /webhooks/:id/lane): queue depth, in flight, next retry, counters. Hidden while the API has no lanes. */
'use strict';

(() => {
  const { esc, api, when, workflowLink } = Console;

  const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
  const show = (v) =>
    v === null || v === undefined
      ? '—'
      : typeof v === 'string' && ISO.test(v)
        ? when(v)
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);

  function entries(obj) {
    return Object.entries(obj)
      .map(([k, v]) =>
        k === 'workflowUrl'
          ? `<dt>Workflow</dt><dd data-lane="${esc(k)}">${workflowLink(v)}</dd>`
          : v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0
            ? Object.entries(v)
                .map(
                  ([k2, v2]) =>
                    `<dt>${esc(Console.fieldLabel(k))} · ${esc(Console.fieldLabel(k2))}</dt><dd data-lane="${esc(`${k}.${k2}`)}">${esc(show(v2))}</dd>`,
                )
                .join('')
            : `<dt>${esc(Console.fieldLabel(k))}</dt><dd data-lane="${esc(k)}">${esc(show(v))}</dd>`,
      )
      .join('');
  }

  /** Fills `el` with the lane's fields when the API answers; a 404 (no lanes yet) leaves it hidden. */
  Console.lanePanel = async (el, webhookId) => {
    el.hidden = true;
    let lane;
    try {
      lane = await api('GET', `/webhooks/${encodeURIComponent(webhookId)}/lane`);
    } catch (err) {
      if (err.status !== 404)
        el.insertAdjacentHTML('beforebegin', `<p class="muted">Lane state unavailable: ${esc(err.message)}</p>`);
      return;
    }
    el.innerHTML = `<h2>Lane</h2><dl class="kv">${entries(lane || {})}</dl>`;
    el.hidden = false;
  };
})();
