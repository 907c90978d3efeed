// The portal's charts (docs/portal.md, "Charts"). The server renders each
// chart as an element with its data in attributes:
//
//   <div class="chart" data-chart="bar|hbar|line" data-labels='["2026-01"]'
//        data-series='[{"name":"Credited (EUR)","values":["12.50"]}]'
//        role="img" aria-label="…"></div>
//
// Amounts are exact decimal strings; they become numbers only to be drawn,
// and the tooltip shows the original string. The table beside each chart
// holds the same numbers, so the page says everything without JavaScript.
import * as echarts from "echarts/core";
import { BarChart, LineChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

// Colours with enough contrast on white, one per series.
const palette = ["#0b5cad", "#8a4f00", "#107c10", "#a4262c", "#5c2d91", "#00596b"];

// A decimal as the server writes it: no exponent, no sign but a minus.
const decimal = /^-?[0-9]+(\.[0-9]+)?$/;

function parse(el) {
  const kind = el.dataset.chart;
  const labels = JSON.parse(el.dataset.labels);
  const series = JSON.parse(el.dataset.series);
  if (!["bar", "hbar", "line"].includes(kind)) {
    throw new Error("chart: data-chart " + JSON.stringify(kind) + " is not bar, hbar or line");
  }
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) {
    throw new Error("chart: data-labels is not a list of strings");
  }
  if (!Array.isArray(series)) {
    throw new Error("chart: data-series is not a list");
  }
  for (const s of series) {
    if (s === null || typeof s !== "object" || typeof s.name !== "string" || !Array.isArray(s.values) || s.values.length !== labels.length) {
      throw new Error("chart: a series is not a name with one value per label");
    }
    for (const v of s.values) {
      if (typeof v !== "string" || !decimal.test(v)) {
        throw new Error("chart: series " + JSON.stringify(s.name) + " has " + JSON.stringify(v) + ", not a decimal string");
      }
    }
  }
  return { kind, labels, series };
}

function option({ kind, labels, series }, title) {
  const category = { type: "category", data: labels, axisLabel: { width: 180, overflow: "truncate" } };
  const value = { type: "value" };
  const horizontal = kind === "hbar";
  return {
    color: palette,
    animation: false,
    aria: { enabled: true, label: { description: title } },
    legend: { top: 0 },
    tooltip: {
      trigger: "axis",
      // The exact amounts, not the floats drawn.
      formatter: (items) => {
        const i = items[0].dataIndex;
        const lines = series.map((s) => escapeHTML(s.name) + ": " + escapeHTML(s.values[i]));
        return escapeHTML(labels[i]) + "<br>" + lines.join("<br>");
      },
    },
    grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? { ...category, inverse: true } : value,
    series: series.map((s) => ({
      name: s.name,
      type: kind === "line" ? "line" : "bar",
      data: s.values.map(Number),
    })),
  };
}

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function draw(el) {
  let data;
  try {
    data = parse(el);
  } catch (err) {
    el.dataset.rendered = "error";
    console.error(err);
    return;
  }
  let chart;
  try {
    chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option(data, el.getAttribute("aria-label") || ""));
  } catch (err) {
    if (chart) chart.dispose();
    el.dataset.rendered = "error";
    console.error(err);
    return;
  }
  window.addEventListener("resize", () => chart.resize());
  el.dataset.rendered = "true";
}

function drawAll() {
  document.querySelectorAll("[data-chart]").forEach(draw);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawAll);
} else {
  drawAll();
}
