/* Hourly charts on uPlot (served from node_modules at /console/vendor/uplot.js): stacked bars and lines, with a legend of window totals. */
'use strict';
/* global uPlot -- loaded before this file from /console/vendor/uplot.js */

(() => {
  const { esc } = Console;

  const COLORS = {
    succeeded: '#11845b',
    failed: '#c0362c',
    held: '#b54708',
    inProgress: '#2f5bea',
    queued: '#b54708',
    processing: '#2f5bea',
    stale: '#667085',
    other: '#98a2b3',
    p50: '#2f5bea',
    p95: '#b54708',
    p99: '#c0362c',
  };

  const hourLabel = (sec) =>
    new Date(sec * 1000).toLocaleString(undefined, {
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
    });

  /**
   * A legend under the chart: each series with its window total (`summary`), or its value at the
   * hovered hour. `format` renders a value.
   */
  function legend(el, series, summary, format) {
    el.innerHTML = `<div class="chart-legend"><span class="muted" data-legend-when>Whole window</span>${series
      .map(
        (s, i) =>
          `<span class="legend-item"><i data-swatch="${i}"></i>${esc(s.label)} <strong data-legend="${esc(s.key)}" data-i="${i}">${esc(format(summary[s.key]))}</strong></span>`,
      )
      .join('')}</div>`;
    // Through the DOM, not a style attribute: the console's CSP allows no inline style.
    el.querySelectorAll('[data-swatch]').forEach((node) => {
      node.style.background = series[Number(node.dataset.swatch)].color;
    });
    return (idx, xs) => {
      const label = el.querySelector('[data-legend-when]');
      label.textContent = idx === null || idx === undefined ? 'Whole window' : hourLabel(xs[idx]);
      label.dataset.hour = idx === null || idx === undefined ? '' : new Date(xs[idx] * 1000).toISOString();
      el.querySelectorAll('[data-legend]').forEach((node) => {
        const s = series[Number(node.dataset.i)];
        node.textContent = format(idx === null || idx === undefined ? summary[s.key] : s.values[idx]);
      });
    };
  }

  /**
   * Draws an hourly chart into `el`. `hours` are ISO hour starts; each series is
   * `{ key, label, values }`. `stacked` draws bars stacked in series order; otherwise lines.
   */
  function hourlyChart(
    el,
    {
      hours,
      series,
      summary,
      stacked = false,
      unit = '',
      format = (v) => (v === null || v === undefined ? '—' : String(v)),
    },
  ) {
    const xs = hours.map((h) => Date.parse(h) / 1000);
    const coloured = series.map((s) => ({ ...s, color: s.color || COLORS[s.key] || '#667085' }));
    // Stacked bars: each series is drawn at its running total, tallest first, so every band shows.
    const drawn = stacked
      ? coloured
          .map((_, i) => xs.map((__, j) => coloured.slice(0, i + 1).reduce((n, s) => n + (s.values[j] || 0), 0)))
          .reverse()
      : coloured.map((s) => s.values);
    const order = stacked ? [...coloured].reverse() : coloured;
    el.innerHTML = '<div class="chart-canvas"></div><div class="chart-legend-box"></div>';
    const update = legend(el.querySelector('.chart-legend-box'), coloured, summary, format);
    const bars = stacked ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined;
    const width = Math.max(320, el.clientWidth - 8);
    const plot = new uPlot(
      {
        width,
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        // Half an hour either side, so the first and last bars are not cut in half.
        scales: {
          x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] },
          y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [{}, { label: unit, size: 56 }],
        series: [
          {},
          ...order.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: stacked ? s.color : undefined,
            width: stacked ? 0 : 2,
            paths: bars,
            spanGaps: !stacked,
            points: { show: !stacked },
          })),
        ],
        hooks: { setCursor: [(u) => update(u.cursor.idx, xs)] },
      },
      [xs, ...drawn],
      el.querySelector('.chart-canvas'),
    );
    el.dataset.rendered = 'true';
    return plot;
  }

  Console.charts = { hourlyChart, COLORS };
})();
