/* Console shell: login with an admin API key, hash routing to the pages. */
'use strict';

(() => {
  const { KEY, esc, api, errorBox, pages, state } = Console;
  const main = document.getElementById('main');

  const routes = [
    [/^#\/login$/, () => loginPage()],
    [/^#\/?$/, () => (location.hash = '#/overview')],
    [/^#\/overview$/, () => pages.overview(main)],
    [/^#\/integrations$/, () => pages.integrations(main)],
    [/^#\/integrations\/([^/]+)$/, (m) => pages.integration(main, m[1])],
    [/^#\/incoming$/, () => pages.incomingLog(main)],
    [/^#\/incoming\/([^/]+)(?:\/(\w+))?$/, (m) => pages.incomingDetail(main, m[1], m[2] || 'details')],
    [/^#\/webhooks$/, () => pages.webhooks(main)],
    [/^#\/webhooks\/new$/, () => pages.webhookForm(main)],
    [/^#\/webhooks\/([^/]+)\/edit$/, (m) => pages.webhookForm(main, m[1])],
    [/^#\/webhooks\/([^/]+)$/, (m) => pages.webhookDeliveries(main, m[1])],
    [/^#\/deliveries\/([^/]+)$/, (m) => pages.delivery(main, m[1])],
    [/^#\/mailboxes$/, () => pages.mailboxes(main)],
    [/^#\/mailboxes\/([^/]+)$/, (m) => pages.mailbox(main, m[1])],
    [/^#\/mail\/([^/]+)$/, (m) => pages.mailDetail(main, m[1])],
    [/^#\/tickets$/, () => pages.tickets(main)],
    [/^#\/tickets\/([^/]+)$/, (m) => pages.ticket(main, m[1])],
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

  async function route() {
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
      }
      document.getElementById('temporal-link').href = state.temporalUiUrl;
    }
    for (const [re, render] of routes) {
      const m = location.hash.match(re);
      if (m) {
        try {
          await render(m);
        } catch (err) {
          main.innerHTML = errorBox(err);
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
