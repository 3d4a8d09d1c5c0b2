import type uPlot from "uplot";
import { h } from "../dom.ts";
import { isolatedIndices, type ChartSpec } from "./overview-data.ts";

/** Series colours, readable on the light and the dark theme alike. */
const PALETTE = ["#3b6cf6", "#e0662f", "#1f9d6b", "#b04fd1", "#c9a20c", "#d1406b", "#2aa3b8"];
const HEIGHT = 170;

type UPlot = typeof uPlot;
let library: Promise<UPlot> | undefined;

/** Built from the uplot package by scripts/build-web.mjs, beside app.js. */
const UPLOT_URL = "/uplot.js";

/**
 * uPlot, loaded the first time a chart is drawn, from a file of its own so that people who only
 * chat never download it (scripts/build-web.mjs). A script from 'self', as the CSP asks.
 */
export function loadCharts(): Promise<UPlot> {
  library ??= (import(UPLOT_URL) as Promise<{ default: UPlot }>).then((module) => module.default);
  return library;
}

/**
 * One overview chart (uPlot on a canvas): a card with a title, the plot and its legend, sized
 * to its card and resized with it. uPlot writes its styles through the CSSOM, which the page's
 * CSP allows (no inline style attributes, no inline scripts).
 */
export class Chart {
  readonly el: HTMLElement;
  readonly #plotBox: HTMLElement;
  #plot: uPlot | undefined;
  #labels = "";
  readonly #resize: ResizeObserver;

  readonly #UPlot: UPlot;

  /** `UPlot` is the library, from loadCharts(). */
  constructor(UPlot: UPlot, spec: ChartSpec) {
    this.#UPlot = UPlot;
    this.#plotBox = h("div", { class: "chart-plot" });
    this.el = h(
      "figure",
      { class: "chart card", "data-testid": `chart-${spec.id}` },
      h("figcaption", {}, spec.title),
      this.#plotBox,
    );
    this.#resize = new ResizeObserver(() => {
      const width = this.#width();
      if (this.#plot && width > 0 && width !== this.#plot.width)
        this.#plot.setSize({ width, height: HEIGHT });
    });
    this.#resize.observe(this.#plotBox);
  }

  /** Draws `spec` over the times `x` (seconds); a new set of series draws a new plot. */
  update(x: number[], spec: ChartSpec): void {
    const data: uPlot.AlignedData = [x, ...spec.series.map((s) => s.values)];
    const labels = spec.series.map((s) => s.label).join("\n");
    if (this.#plot && labels === this.#labels) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#labels = labels;
    this.#plot = new this.#UPlot(this.#options(spec), data, this.#plotBox);
  }

  dispose(): void {
    this.#resize.disconnect();
    this.#plot?.destroy();
  }

  #width(): number {
    return Math.floor(this.#plotBox.clientWidth);
  }

  #options(spec: ChartSpec): uPlot.Options {
    const styles = getComputedStyle(document.documentElement);
    const text = styles.getPropertyValue("--muted").trim() || "#666";
    const grid = styles.getPropertyValue("--line").trim() || "#ddd";
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const show = (value: number | null | undefined) =>
      value === null || value === undefined
        ? "–"
        : `${round(value)}${spec.unit ? ` ${spec.unit}` : ""}`;
    return {
      width: Math.max(this.#width(), 200),
      height: HEIGHT,
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(Number(max) || 0, 1) * 1.1] },
      },
      axes: [
        axis,
        { ...axis, size: 48, values: (_u, splits) => splits.map((v) => String(round(v))) },
      ],
      series: [
        {},
        ...spec.series.map((series, i) => ({
          label: series.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          // Lines only, but a lone value between gaps as a dot, or it would not show at all.
          points: {
            show: true,
            size: 6,
            filter: (u: uPlot, index: number) => isolatedIndices(Array.from(u.data[index] ?? [])),
          },
          value: (_u: uPlot, v: number | null) => show(v),
        })),
      ],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
  }
}

const round = (value: number) =>
  Math.abs(value) >= 10 ? Math.round(value) : Math.round(value * 100) / 100;
