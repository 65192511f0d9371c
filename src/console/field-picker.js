/* Custom payload field picker: which fields of the subscribed objects to send, and per single-select field whether to send its ID. */
'use strict';

(() => {
  const { esc } = Console;

  const TYPE_NAMES = {
    text: 'text',
    number: 'number',
    boolean: 'yes/no',
    date: 'date',
    single_select: 'single select',
    multi_select: 'multi select',
  };

  /**
   * The union of the objects' fields. A name shared by several objects offers "send ID" only
   * when it is a single select in every one of them (the API's rule).
   */
  function mergeFields(objectFields) {
    const byName = new Map();
    for (const { objectType, fields } of objectFields) {
      for (const f of fields) {
        const seen = byName.get(f.name) || { name: f.name, types: new Set(), objects: [] };
        seen.types.add(f.type);
        seen.objects.push(objectType);
        byName.set(f.name, seen);
      }
    }
    return [...byName.values()].map((f) => ({
      name: f.name,
      objects: f.objects,
      type: f.types.size === 1 ? [...f.types][0] : 'mixed',
      sendIdAllowed: f.types.size === 1 && f.types.has('single_select'),
    }));
  }

  /**
   * Mounts the picker. `render(objectFields)` redraws it for the events now chosen and keeps the
   * choices already made; `read()` returns the API's `payload.fields`.
   */
  Console.fieldPicker = (container, { selected = [] }) => {
    const chosen = new Map(selected.map((f) => [f.field, { sendId: Boolean(f.sendId) }]));
    let fields = [];

    const remember = () => {
      for (const row of container.querySelectorAll('[data-field]')) {
        const include = row.querySelector('[data-p=include]').checked;
        const toggle = row.querySelector('[data-p=send-id]');
        if (include) chosen.set(row.dataset.field, { sendId: Boolean(toggle && toggle.checked) });
        else chosen.delete(row.dataset.field);
      }
    };

    const render = (objectFields) => {
      if (container.querySelector('[data-field]')) remember();
      fields = mergeFields(objectFields);
      container.innerHTML = fields.length
        ? `<table class="field-picker"><thead><tr><th>Send</th><th>Field</th><th>Type</th><th>Send ID instead of display value</th></tr></thead><tbody>${fields
            .map((f) => {
              const pick = chosen.get(f.name);
              return `<tr data-field="${esc(f.name)}"><td><input type="checkbox" data-p="include" aria-label="Send ${esc(f.name)}" ${pick ? 'checked' : ''}></td>
                <td>${esc(Console.fieldLabel(f.name))} <code class="muted">${esc(f.name)}</code>${objectFields.length > 1 ? ` <span class="muted">(${esc(f.objects.join(', '))})</span>` : ''}</td>
                <td>${esc(TYPE_NAMES[f.type] || f.type)}</td>
                <td>${f.sendIdAllowed ? `<label class="inline"><input type="checkbox" data-p="send-id" ${pick && pick.sendId ? 'checked' : ''} ${pick ? '' : 'disabled'}> send ID</label>` : '<span class="muted">—</span>'}</td></tr>`;
            })
            .join('')}</tbody></table>`
        : '<p class="muted">Choose at least one event to list its fields.</p>';
      for (const row of container.querySelectorAll('[data-field]')) {
        const include = row.querySelector('[data-p=include]');
        const toggle = row.querySelector('[data-p=send-id]');
        include.onchange = () => {
          if (toggle) toggle.disabled = !include.checked;
          remember();
        };
        if (toggle) toggle.onchange = remember;
      }
    };

    return {
      render,
      read: () => {
        remember();
        // Catalogue order, so the payload's keys come out in the order the picker shows them.
        return fields
          .filter((f) => chosen.has(f.name))
          .map((f) =>
            f.sendIdAllowed && chosen.get(f.name).sendId ? { field: f.name, sendId: true } : { field: f.name },
          );
      },
    };
  };
})();
