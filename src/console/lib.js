/* Shared helpers for the console pages: API access, rendering, tables, pagination. */
'use strict';

const Console = (() => {
  const KEY = 'switchyard.apiKey';
  const state = { temporalUiUrl: '' };

  const esc = (value) =>
    String(value ?? '').replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
    );

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || `HTTP ${status}`);
      this.name = 'ApiError';
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${sessionStorage.getItem(KEY) || ''}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      location.hash = '#/login';
      throw new ApiError(401, json);
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }

  const badge = (status) => `<span class="badge ${esc(status)}">${esc(status)}</span>`;
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
  const workflowLink = (url) =>
    url ? `<a href="${esc(url)}" target="_blank" rel="noopener" class="workflow-link">workflow ↗</a>` : '';

  function toast(message) {
    const el = document.getElementById('toast');
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (el.hidden = true), 3500);
  }

  function errorBox(err) {
    const details = err.body && err.body.error && err.body.error.details;
    const list = Array.isArray(details)
      ? `\n${details.map((d) => `• ${d.path || ''} ${d.message || JSON.stringify(d)}`).join('\n')}`
      : '';
    return `<div class="error-box" role="alert">${esc(err.message)}${esc(list)}</div>`;
  }

  /**
   * A server-paginated table: `load(cursor)` returns `{ data, nextCursor }`; rows render with
   * `columns` ([header, row => html]). With `selectable`, a checkbox column feeds `selected()`.
   */
  function pagedTable(container, { load, columns, selectable = false, empty = 'Nothing here yet.' }) {
    const cursors = [null];
    let page = 0;
    let rows = [];
    async function render() {
      container.innerHTML = '<p class="muted">Loading…</p>';
      let result;
      try {
        result = await load(cursors[page]);
      } catch (err) {
        container.innerHTML = errorBox(err);
        return;
      }
      rows = result.data;
      cursors[page + 1] = result.nextCursor;
      const head = `${selectable ? '<th><input type="checkbox" data-all></th>' : ''}${columns.map(([h]) => `<th>${esc(h)}</th>`).join('')}`;
      const body = rows.length
        ? rows
            .map(
              (r, i) =>
                `<tr>${selectable ? `<td><input type="checkbox" data-row="${i}"></td>` : ''}${columns.map(([, f]) => `<td>${f(r)}</td>`).join('')}</tr>`,
            )
            .join('')
        : `<tr><td colspan="${columns.length + (selectable ? 1 : 0)}" class="muted">${esc(empty)}</td></tr>`;
      container.innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>
        <div class="toolbar"><button class="secondary" data-prev ${page === 0 ? 'disabled' : ''}>← Newer</button>
        <span class="muted">Page ${page + 1}</span>
        <button class="secondary" data-next ${result.nextCursor ? '' : 'disabled'}>Older →</button></div>`;
      container.querySelector('[data-prev]').onclick = () => {
        page--;
        void render();
      };
      container.querySelector('[data-next]').onclick = () => {
        page++;
        void render();
      };
      const all = container.querySelector('[data-all]');
      if (all) all.onchange = () => container.querySelectorAll('[data-row]').forEach((c) => (c.checked = all.checked));
    }
    void render();
    return {
      reload: () => render(),
      selected: () => [...container.querySelectorAll('[data-row]:checked')].map((c) => rows[Number(c.dataset.row)]),
    };
  }

  const qs = (params) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
    const s = p.toString();
    return s ? `?${s}` : '';
  };

  return { KEY, state, esc, api, ApiError, badge, when, workflowLink, toast, errorBox, pagedTable, qs, pages: {} };
})();
