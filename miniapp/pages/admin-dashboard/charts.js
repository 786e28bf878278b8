// The dashboard's charts, drawn by ECharts with only the parts used (echarts/core: gauge, bar, line and
// scatter charts; grid, tooltip and legend; the SVG renderer). This module is imported dynamically by
// DashChart.vue, so ECharts loads with the dashboard only, never at first load. Colours come from the
// --weui-* variables (dark mode follows).
import { BarChart, GaugeChart, LineChart, ScatterChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { init, use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import { MONTHS, chartRegions, plotted, progress, trend } from '../../lib/dashboard.js'

use([GaugeChart, BarChart, LineChart, ScatterChart, GridComponent, TooltipComponent, LegendComponent, SVGRenderer])

function colours() {
  const style = getComputedStyle(document.body)
  const v = (name, fallback) => style.getPropertyValue(name).trim() || fallback
  return {
    brand: v('--weui-BRAND', '#07c160'),
    blue: v('--weui-BLUE', '#10aeff'),
    orange: v('--weui-ORANGE', '#fa9d3b'),
    red: v('--weui-RED', '#fa5151'),
    fg0: v('--weui-FG-0', 'rgba(0,0,0,.9)'),
    fg1: v('--weui-FG-1', 'rgba(0,0,0,.5)'),
    fg2: v('--weui-FG-2', 'rgba(0,0,0,.3)'),
    fg3: v('--weui-FG-3', 'rgba(0,0,0,.1)'),
  }
}

const TEXT = (c) => ({ color: c.fg1, fontSize: 11 })

/** Completion of the year's target with the 序时进度 as a second, thin pointer. */
function gaugeOption(section, { share }) {
  const c = colours()
  const p = progress(section, share) || { done: 0, expected: 0 }
  const behind = section.status === 'behind'
  const base = {
    type: 'gauge', startAngle: 210, endAngle: -30, min: 0, max: 100, radius: '92%', center: ['50%', '58%'],
    splitLine: { show: false }, axisTick: { show: false }, axisLabel: { show: false },
  }
  return {
    animation: false,
    series: [
      {
        ...base,
        axisLine: { lineStyle: { width: 12, color: [[1, c.fg3]] } },
        progress: { show: true, width: 12, itemStyle: { color: behind ? c.orange : c.brand } },
        pointer: { show: false },
        anchor: { show: false },
        title: { offsetCenter: [0, '38%'], color: c.fg1, fontSize: 11 },
        detail: { offsetCenter: [0, '2%'], valueAnimation: false, fontSize: 20, fontWeight: 600, color: c.fg0,
          formatter: (v) => `${v.toFixed(1)}%` },
        data: [{ value: Math.round(p.done * 10) / 10, name: '完成率' }],
      },
      {
        ...base,
        axisLine: { show: false },
        progress: { show: false },
        pointer: { show: true, length: '30%', width: 3, offsetCenter: [0, '-62%'], itemStyle: { color: c.blue } },
        anchor: { show: false },
        title: { show: false },
        detail: { show: false },
        data: [{ value: p.expected, name: '序时进度' }],
      },
    ],
  }
}

/** The months: each month's figure as bars, the running total as a line, the target's pace dashed. */
function trendOption(section, { months }) {
  const c = colours()
  const t = trend(section, months)
  const series = [
    { name: section.stock ? '月末数' : '当月', type: 'bar', data: section.stock ? [] : t.monthly,
      itemStyle: { color: c.brand, borderRadius: [3, 3, 0, 0] }, barMaxWidth: 18 },
    { name: section.stock ? '月末数' : '累计', type: 'line', data: t.cumulative, symbolSize: 5,
      itemStyle: { color: c.blue }, lineStyle: { width: 2 } },
  ]
  if (t.line) {
    series.push({ name: '目标进度', type: 'line', data: t.line, symbol: 'none',
      lineStyle: { type: 'dashed', width: 1.5, color: c.red }, itemStyle: { color: c.red } })
  }
  return {
    animation: false,
    grid: { left: 8, right: 12, top: 30, bottom: 4, containLabel: true },
    legend: { top: 0, right: 0, itemWidth: 14, itemHeight: 8, textStyle: TEXT(c),
      data: series.filter((s) => s.data.length).map((s) => s.name) },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: MONTHS, axisLabel: { ...TEXT(c), interval: 1 },
      axisLine: { lineStyle: { color: c.fg3 } }, axisTick: { show: false } },
    yAxis: { type: 'value', minInterval: section.money ? 0 : 1, axisLabel: TEXT(c), splitLine: { lineStyle: { color: c.fg3 } } },
    series: series.filter((s) => s.data.length),
  }
}

/** One bar per child region (or place) with its own target as a tick across the bar. */
function regionsOption(section) {
  const c = colours()
  const rows = chartRegions(section).reverse() // the largest on top
  const targets = rows.map((r) => plotted(section, r.target))
  const series = [
    { name: '实际', type: 'bar', data: rows.map((r) => plotted(section, r.actual)), barMaxWidth: 14,
      itemStyle: { color: c.brand, borderRadius: [0, 3, 3, 0] },
      label: { show: true, position: 'right', ...TEXT(c) } },
  ]
  if (targets.some((t) => t != null)) {
    series.push({ name: '目标', type: 'scatter', data: targets, symbol: 'rect', symbolSize: [3, 18],
      itemStyle: { color: c.red }, z: 3 })
  }
  return {
    animation: false,
    grid: { left: 8, right: 36, top: series.length > 1 ? 26 : 6, bottom: 4, containLabel: true },
    legend: series.length > 1 ? { top: 0, right: 0, itemWidth: 14, itemHeight: 8, textStyle: TEXT(c) } : undefined,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', minInterval: section.money ? 0 : 1, axisLabel: TEXT(c), splitLine: { lineStyle: { color: c.fg3 } } },
    yAxis: { type: 'category', data: rows.map((r) => r.name), axisTick: { show: false },
      axisLabel: { ...TEXT(c), width: 96, overflow: 'truncate' }, axisLine: { lineStyle: { color: c.fg3 } } },
    series,
  }
}

const OPTIONS = { gauge: gaugeOption, trend: trendOption, regions: regionsOption }

/** Draw (or redraw) a chart of `kind` into `el`; returns the ECharts instance. */
export function draw(el, kind, section, context, chart = null) {
  const instance = chart || init(el, null, { renderer: 'svg' })
  instance.setOption(OPTIONS[kind](section, context), true)
  return instance
}
