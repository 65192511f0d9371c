/* Conditions editor for one webhook event: rows of field, operator, value, each read back in plain words. */
'use strict';

(() => {
  const { esc } = Console;

  /**
   * Operator wording; dates and numbers compare as "after/before" or "greater/less than". Which
   * operators exist and what value each takes come from the API (`GET /event-types`); an
   * operator without wording here shows its name.
   */
  const operatorLabel = (op, type) =>
    ({
      equals: 'is',
      not_equals: 'is not',
      in: 'is one of',
      not_in: 'is none of',
      contains: 'contains',
      not_contains: 'does not contain',
      greater_than: type === 'date' ? 'is after' : 'is greater than',
      less_than: type === 'date' ? 'is before' : 'is less than',
      is_blank: 'is blank',
      is_not_blank: 'is not blank',
      changed: 'changed',
      changed_to: 'changed to',
    })[op] || op;

  /** `ticketType` → "Ticket type". */
  const fieldLabel = (name) => {
    const words = String(name)
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  };

  const valueText = (value) => (Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value));

  /** "Priority is one of P1, P2"; `takes(operator)` is the value it takes: none, single or list. */
  function describe(condition, fields, takes) {
    const def = fields.find((f) => f.name === condition.field);
    const parts = [fieldLabel(condition.field), operatorLabel(condition.operator, def && def.type)];
    if (takes(condition.operator) !== 'none') parts.push(valueText(condition.value) || '…');
    return parts.join(' ');
  }

  // Numbers stay numbers (select ids are numbers too, so "Status is 3" compares by id).
  function parseToken(token, type) {
    if (type === 'boolean') return token.toLowerCase() === 'true' || token.toLowerCase() === 'yes';
    if ((type === 'number' || type === 'single_select' || type === 'multi_select') && /^-?\d+(\.\d+)?$/.test(token))
      return Number(token);
    return token;
  }

  function parseValue(text, takes, type) {
    if (takes === 'none') return undefined;
    if (takes === 'list') {
      return text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((t) => parseToken(t, type));
    }
    const t = text.trim();
    return t === '' ? undefined : parseToken(t, type);
  }

  const rowHtml = (c, fields) => `<div class="condition-row">
      <select data-c="field" aria-label="Field">${fields
        .map(
          (f) =>
            `<option value="${esc(f.name)}" ${f.name === c.field ? 'selected' : ''}>${esc(fieldLabel(f.name))}</option>`,
        )
        .join('')}</select>
      <select data-c="operator" aria-label="Operator"></select>
      <input data-c="value" aria-label="Value" value="${esc(valueText(c.value))}" placeholder="value">
      <button type="button" class="link" data-c="remove" title="Remove condition">✕</button>
      <div class="muted condition-words" data-c="words"></div></div>`;

  /**
   * Mounts the editor; `fields` are the event object's catalogue fields and `operators` the
   * catalogue's condition operators (`{ operator, value }`). `read()` returns
   * `{ match, conditions }` in the API's shape.
   */
  Console.conditionsEditor = (container, { fields, operators, match = 'all', conditions = [] }) => {
    const valueOf = new Map(operators.map((o) => [o.operator, o.value]));
    const takes = (operator) => valueOf.get(operator) || 'single';
    container.innerHTML = `<div class="conditions">
        <div class="muted">Send only when <select data-c="match" aria-label="Match">
          <option value="all" ${match === 'all' ? 'selected' : ''}>all</option>
          <option value="any" ${match === 'any' ? 'selected' : ''}>any</option></select> of these are true
          <span data-c="none">(no conditions: every occurrence is sent)</span></div>
        <div data-c="rows"></div>
        <button type="button" class="secondary small" data-c="add">Add condition</button></div>`;
    const rows = container.querySelector('[data-c=rows]');
    const typeOf = (name) => (fields.find((f) => f.name === name) || {}).type;

    const readRow = (row) => {
      const field = row.querySelector('[data-c=field]').value;
      const operator = row.querySelector('[data-c=operator]').value;
      const value = parseValue(row.querySelector('[data-c=value]').value, takes(operator), typeOf(field));
      return value === undefined ? { field, operator } : { field, operator, value };
    };

    // Operator wording depends on the field's type, so the list is rebuilt when the field changes.
    const refresh = (row, fieldChanged) => {
      const field = row.querySelector('[data-c=field]').value;
      const opSelect = row.querySelector('[data-c=operator]');
      if (fieldChanged) {
        const current = opSelect.value || opSelect.dataset.initial || 'equals';
        opSelect.innerHTML = operators
          .map(
            ({ operator: op }) =>
              `<option value="${op}" ${op === current ? 'selected' : ''}>${esc(operatorLabel(op, typeOf(field)))}</option>`,
          )
          .join('');
      }
      const input = row.querySelector('[data-c=value]');
      input.hidden = takes(opSelect.value) === 'none';
      input.placeholder = takes(opSelect.value) === 'list' ? 'values, separated by commas' : 'value';
      row.querySelector('[data-c=words]').textContent = describe(readRow(row), fields, takes);
      container.querySelector('[data-c=none]').hidden = rows.children.length > 0;
    };

    const add = (c) => {
      rows.insertAdjacentHTML('beforeend', rowHtml(c, fields));
      const row = rows.lastElementChild;
      row.querySelector('[data-c=operator]').dataset.initial = c.operator;
      row.querySelector('[data-c=remove]').onclick = () => {
        row.remove();
        container.querySelector('[data-c=none]').hidden = rows.children.length > 0;
      };
      row.oninput = (e) => refresh(row, e.target.dataset.c === 'field');
      row.onchange = (e) => refresh(row, e.target.dataset.c === 'field');
      refresh(row, true);
    };

    conditions.forEach(add);
    container.querySelector('[data-c=add]').onclick = () =>
      add({ field: fields[0] ? fields[0].name : '', operator: 'equals' });
    container.querySelector('[data-c=none]').hidden = conditions.length > 0;

    return {
      read: () => ({
        match: container.querySelector('[data-c=match]').value,
        conditions: [...rows.children].map(readRow),
      }),
      describe: () => [...rows.children].map((row) => describe(readRow(row), fields, takes)),
    };
  };

  Console.fieldLabel = fieldLabel;
})();
