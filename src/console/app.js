/* Console shell: login with an admin API key, hash routing to the pages. */
'use strict';

(() => {
  const { KEY, esc, api, errorBox, pages, state } = Console;
  const main = document.getElementById('main');

  // Each route renders into its own view. A render still waiting on the API when the operator has
  // already moved on (or a page's own delayed refresh) then writes into a detached view instead
  // of over the page now showing.
  const routes = [
    [/^#\/login$/, () => loginPage()],
    [/^#\/?$/, () => (location.hash = '#/overview')],
    [/^#\/overview$/, (m, view) => pages.overview(view)],
    [/^#\/integrations$/, (m, view) => pages.integrations(view)],
    [/^#\/integrations\/([^/]+)$/, (m, view) => pages.integration(view, m[1])],
    [/^#\/incoming$/, (m, view) => pages.incomingLog(view)],
    [/^#\/incoming\/([^/]+)(?:\/(\w+))?$/, (m, view) => pages.incomingDetail(view, m[1], m[2] || 'details')],
    [/^#\/webhooks$/, (m, view) => pages.webhooks(view)],
    [/^#\/webhooks\/new$/, (m, view) => pages.webhookForm(view)],
    [/^#\/webhooks\/([^/]+)\/edit$/, (m, view) => pages.webhookForm(view, m[1])],
    [/^#\/webhooks\/([^/]+)$/, (m, view) => pages.webhookDeliveries(view, m[1])],
    [/^#\/deliveries\/([^/]+)$/, (m, view) => pages.delivery(view, m[1])],
    [/^#\/mailboxes$/, (m, view) => pages.mailboxes(view)],
    [/^#\/mailboxes\/([^/]+)$/, (m, view) => pages.mailbox(view, m[1])],
    [/^#\/mail\/([^/]+)$/, (m, view) => pages.mailDetail(view, m[1])],
    [/^#\/tickets$/, (m, view) => pages.tickets(view)],
    [/^#\/tickets\/([^/]+)$/, (m, view) => pages.ticket(view, m[1])],
  ];

  function loginPage() {
    document.getElementById('nav').hidden = true;
    main.innerHTML = `<form class="card login" id="login">
      <h1>Sign in</h1>
      <p class="muted">Paste an admin API key (under <code>npm start</code>: <code>cat .data/admin-api-key</code>).</p>
      <label for="key">API key</label><input id="key" name="key" type="password" class="wide" autocomplete="off" required>
      <div id="login-error"></div>
      <p><button type="submit">Sign in</button></p></form>`;
    document.getElementById('login').onsubmit = async (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, document.getElementById('key').value.trim());
      try {
        const info = await api('GET', '/console-info');
        state.temporalUiUrl = info.temporalUiUrl;
        location.hash = '#/webhooks';
      } catch (err) {
        sessionStorage.removeItem(KEY);
        document.getElementById('login-error').innerHTML = errorBox(err);
      }
    };
  }

  let turn = 0;

  async function route() {
    const mine = ++turn;
    if (!sessionStorage.getItem(KEY) && location.hash !== '#/login') {
      location.hash = '#/login';
      return;
    }
    if (location.hash !== '#/login') {
      document.getElementById('nav').hidden = false;
      if (!state.temporalUiUrl) {
        try {
          state.temporalUiUrl = (await api('GET', '/console-info')).temporalUiUrl;
        } catch {
          return;
        }
        if (mine !== turn) return;
      }
      document.getElementById('temporal-link').href = state.temporalUiUrl;
    }
    const view = document.createElement('div');
    main.replaceChildren(view);
    for (const [re, render] of routes) {
      const m = location.hash.match(re);
      if (m) {
        try {
          await render(m, view);
        } catch (err) {
          view.innerHTML = errorBox(err);
        }
        return;
      }
    }
    main.innerHTML = `<p>No page at ${esc(location.hash)}.</p>`;
  }

  document.getElementById('logout').onclick = () => {
    sessionStorage.removeItem(KEY);
    location.hash = '#/login';
  };
  window.addEventListener('hashchange', () => void route());
  void route();
})();
