/**
 * The figure JSON of every report kind against sdk-behaviour.md §3.6 and the test matrix §10 E
 * (items 48–68; 46–47 are scalar events, checked in reporting.test.ts). Expected values are
 * Python's output except where DEVIATIONS.md fixes a bug; those tests say which deviation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  colorScale,
  heatmapFigure,
  histogramFigure,
  linePlotFigure,
  plotString,
  scatter3dFigure,
  surfaceFigure,
  tableFigure,
  tableFromCsvRows,
  tableFromRows,
  SCATTER_MAX_VALUES,
} from './plots.js';
import { UsageError } from '../errors.js';

const SPIKES = { showspikes: true, spikethickness: 1, spikesnap: 'cursor', spikemode: 'toaxis+across' };
/** Python's scale with deviation 2 (rgb(141, 314, 68) → rgb(141, 214, 68)). */
const SCALE = [[0, 'rgb(71, 17, 100)'], [0.1, 'rgb(53, 92, 140)'], [0.2, 'rgb(37, 139, 141)'], [0.6, 'rgb(66, 189, 112)'], [0.9, 'rgb(141, 214, 68)'], [1.0, 'rgb(221, 226, 24)']];
const BAR = { tick0: 0, tickmode: 'array', tickvals: [0.1, 0.2, 0.6, 0.9, 1.0] };
const json = (figure: object) => JSON.parse(plotString(figure as never));

describe('histogram and vector figures (H)', () => {
  it('§3.6 example: two labelled rows titled by the series', () => {
    const fig = histogramFigure({ title: 'H', series: 's', values: [[1, 2], [3, 4]], labels: ['a', 'b'], xaxis: 'X', yaxis: 'Y' });
    assert.deepEqual(json(fig), {
      data: [
        { name: 'a', y: [1, 2], x: [0, 1], type: 'bar' },
        { name: 'b', y: [3, 4], x: [0, 1], type: 'bar' },
      ],
      layout: { title: 's', xaxis: { title: 'X' }, yaxis: { title: 'Y' }, barmode: 'group', bargap: 0.08, bargroupgap: 0 },
    });
  });

  it('48/53: one row named after the series, title, group mode, null axis titles', () => {
    const fig = histogramFigure({ title: 'H', series: 's', values: [1, 2, 3] });
    assert.deepEqual(json(fig), {
      data: [{ name: 's', y: [1, 2, 3], x: [0, 1, 2], type: 'bar' }],
      layout: { title: 'H', xaxis: { title: null }, yaxis: { title: null }, barmode: 'group', bargap: 0.08, bargroupgap: 0 },
    });
    assert.deepEqual(json(histogramFigure({ title: 'V', series: 's', values: Float64Array.from([1, 2, 3]) })).data[0].y, [1, 2, 3]);
  });

  it('49: labels name the rows and the layout title is the series', () => {
    const fig = json(histogramFigure({ title: 'H', series: 's', values: [new Float32Array([1, 2]), new Float32Array([3, 4])], labels: ['a', 'b'] }));
    assert.deepEqual(fig.data.map((t: { name: string }) => t.name), ['a', 'b']);
    assert.equal(fig.layout.title, 's');
  });

  it('50: an unknown mode is refused', () => {
    assert.throws(() => histogramFigure({ title: 'H', series: 's', values: [1], mode: 'overlay' as never }), UsageError);
    assert.equal(json(histogramFigure({ title: 'H', series: 's', values: [1], mode: 'stack' })).layout.barmode, 'stack');
  });

  it('51: xlabels become x and the row is named after the series', () => {
    const fig = json(histogramFigure({ title: 'H', series: 's', values: [1, 2], xlabels: ['p', 'q'] }));
    assert.deepEqual(fig.data, [{ name: 's', y: [1, 2], x: ['p', 'q'], type: 'bar' }]);
  });

  it('DEVIATIONS 7: xlabels without labels name every row, where Python fails after the first', () => {
    const fig = json(histogramFigure({ title: 'H', series: 's', values: [[1, 2], [3, 4]], xlabels: ['p', 'q'] }));
    assert.deepEqual(fig.data.map((t: { name: string }) => t.name), ['s', 's']);
  });

  it('labels with xlabels: one label is repeated per row; column and row counts are checked', () => {
    const fig = json(histogramFigure({ title: 'H', series: 's', values: [[1, 2], [3, 4]], labels: ['only'], xlabels: ['p', 'q'] }));
    assert.deepEqual(fig.data.map((t: { name: string }) => t.name), ['only', 'only']);
    assert.throws(() => histogramFigure({ title: 'H', series: 's', values: [[1, 2], [3, 4]], labels: ['a', 'b'], xlabels: ['p'] }), /one label per data column/);
    assert.throws(() => histogramFigure({ title: 'H', series: 's', values: [[1, 2], [3, 4]], labels: ['a'] }), /one label per data row/);
  });

  it('52: data_args are set on every trace; extra_layout is merged deeply', () => {
    const fig = json(histogramFigure({ title: 'H', series: 's', values: [[1], [2]], labels: ['a', 'b'], dataArgs: { orientation: 'h' }, extraLayout: { xaxis: { type: 'log' } } }));
    assert.ok(fig.data.every((t: { orientation: string }) => t.orientation === 'h'));
    assert.deepEqual(fig.layout.xaxis, { title: null, type: 'log' });
  });

  it('68: NaN in values is sent as "nan", infinities as "inf"/"-inf"', () => {
    const text = plotString(histogramFigure({ title: 'H', series: 's', values: [1, NaN, Infinity, -Infinity] }));
    assert.deepEqual(JSON.parse(text).data[0].y, [1, 'nan', 'inf', '-inf']);
  });

  it('the traffic recording: a histogram with x labels', () => {
    const fig = histogramFigure({ title: 'hist', series: 'h1', values: [1, 5, 3, 7], xlabels: ['a', 'b', 'c', 'd'], xaxis: 'label', yaxis: 'count' });
    assert.equal(
      plotString(fig),
      '{"data":[{"name":"h1","y":[1,5,3,7],"x":["a","b","c","d"],"type":"bar"}],"layout":{"title":"hist","xaxis":{"title":"label"},"yaxis":{"title":"count"},"barmode":"group","bargap":0.08,"bargroupgap":0}}',
    );
  });
});

describe('table figures (T)', () => {
  const trace = (header: unknown, cells: unknown) => ({
    type: 'table',
    header: { values: header, align: 'left', line: { width: 0.5, color: '#d4d6e0' }, fill: { color: '#fff' }, font: { family: 'Heebo, verdana, arial, sans-serif', size: 12, color: '#333' } },
    cells: { height: 30, values: cells, align: 'left', line: { color: 'white', width: 1 }, font: { family: 'Heebo, verdana, arial, sans-serif', size: 14, color: '#384161' } },
  });

  it('54: rows become a header and columns; layout carries title and series', () => {
    const fig = json(tableFigure({ title: 'T', series: 's', table: tableFromRows([['a', 'b'], [1, 2], [3, 4]]) }));
    assert.deepEqual(fig, { data: [trace(['a', 'b'], [[1, 3], [2, 4]])], layout: { 'title.text': 'T', title: 's' } });
  });

  it('57: an empty table has empty header and cells', () => {
    assert.deepEqual(json(tableFigure({ title: 'T', series: 's', table: tableFromRows([]) })).data[0], trace([], []));
  });

  it('CSV rows: the first column is the index, the other headers are one-element lists, columns are typed', () => {
    const table = tableFromCsvRows([
      ['name', 'score', 'ok', 'note'],
      ['alpha', '1', 'True', 'x'],
      ['beta', '2.5', 'false', ''],
      ['gamma', 'inf', 'true', 'z'],
      ['delta', '', 'true', 'w'],
    ]);
    assert.deepEqual(table.header, ['name', ['score'], ['ok'], ['note']]);
    assert.deepEqual(table.cells, [
      ['alpha', 'beta', 'gamma', 'delta'],
      [1, 2.5, 'Inf', 'NaN'],
      [true, false, true, true],
      ['x', 'NaN', 'z', 'w'],
    ]);
  });
});

describe('line plot and 2-D scatter figures (L)', () => {
  it('58: reversed x axis, comment in the title, one trace per series', () => {
    const fig = json(linePlotFigure({ title: 'L', series: [{ name: 's1', data: [[0, 1], [1, 2]] }], xaxis: 'X', yaxis: 'Y', reverseXaxis: true, comment: 'cm' }));
    assert.deepEqual(fig, {
      data: [{ name: 's1', x: [0, 1], y: [1, 2], mode: 'lines', text: null, type: 'scatter' }],
      layout: { title: 'L<br><sup>cm</sup>', xaxis: { title: 'X', ...SPIKES, autorange: 'reversed' }, yaxis: { title: 'Y', ...SPIKES }, name: null },
    });
  });

  it('59: extra_layout merges into the axes', () => {
    const fig = json(linePlotFigure({ title: 'L', series: [{ name: 's1', data: [[0, 1]] }], extraLayout: { xaxis: { type: 'log' } } }));
    assert.deepEqual(fig.layout.xaxis, { title: null, ...SPIKES, type: 'log' });
  });

  it('60: data must have two columns; labels one per point', () => {
    assert.throws(() => linePlotFigure({ title: 'L', series: [{ name: 's', data: [[0, 1, 2]] }] }), /Expected series data to have 2 columns/);
    assert.throws(() => linePlotFigure({ title: 'L', series: [{ name: 's', data: [0, 1] as never }] }), /Expected series data to be a 2D array/);
    assert.throws(() => linePlotFigure({ title: 'L', series: [{ name: 's', data: [[0, 1]], labels: ['a', 'b'] }] }), /one entry per point/);
  });

  it('61: a scatter is one series named after it, with point labels', () => {
    const fig = json(linePlotFigure({ title: 'S', series: [{ name: 'ser', data: [[0, 1], [1, 2]], labels: ['a', 'b'] }], mode: 'lines', maxValues: SCATTER_MAX_VALUES }));
    assert.deepEqual(fig.data, [{ name: 'ser', x: [0, 1], y: [1, 2], mode: 'lines', text: ['a', 'b'], type: 'scatter' }]);
  });

  it('thins series above the size limit the way Python does (every step-th point of a moving average)', () => {
    const data = Array.from({ length: 1000 }, (_, i) => [i, i % 2]);
    const fig = json(linePlotFigure({ title: 'L', series: [{ name: 's', data }], maxValues: 200 }));
    const { x, y } = fig.data[0];
    assert.equal(x.length, 100);
    assert.equal(x[x.length - 1], 999);
    assert.equal(x[0], 9);
    // a window of 10 alternating 0/1 values averages to 0.5
    assert.ok(y.slice(1, -1).every((v: number) => v === 0.5));
  });
});

describe('3-D scatter figures (S3)', () => {
  it('62 with DEVIATIONS 1 and 4: named trace, valid marker colour, scene titles', () => {
    const fig = json(scatter3dFigure({ title: 'S3', series: 'ser', scatter: [[0, 1, 2], [1, 2, 3]], xaxis: 'x', zaxis: 'z' }));
    assert.deepEqual(fig, {
      data: [
        {
          name: 'ser',
          x: [0, 1],
          y: [1, 2],
          z: [2, 3],
          text: null,
          type: 'scatter3d',
          mode: 'markers',
          marker: { size: 5, line: { color: 'rgba(217, 217, 217, 0.14)', width: 0.8 }, opacity: 0.8 },
        },
      ],
      layout: { showlegend: true, title: 'S3', scene: { xaxis: { title: 'x' }, yaxis: { title: null }, zaxis: { title: 'z' } }, name: null },
    });
    assert.throws(() => scatter3dFigure({ title: 'S3', series: 'ser', scatter: [[0, 1]] }), /3 columns/);
  });
});

describe('heatmap figures (CM)', () => {
  it('63: labels, colour scale (DEVIATIONS 2), reversed y axis, comment', () => {
    const fig = json(heatmapFigure({ title: 'CM', series: 'ser', matrix: [[1, 2], [3, 4]], xlabels: ['p', 'q'], ylabels: ['r', 's'], yaxisReversed: true, comment: 'cc' }));
    assert.deepEqual(fig, {
      data: [{ x: ['p', 'q'], y: ['r', 's'], z: [[1, 2], [3, 4]], type: 'heatmap', colorscale: SCALE, colorbar: BAR }],
      layout: { showlegend: true, title: 'CM<br><sup>cc</sup>', xaxis: { title: null }, yaxis: { title: null, autorange: 'reversed' }, name: 'ser' },
    });
  });

  it('64 with DEVIATIONS 5: extra_layout goes into the layout only and the colour scale stays', () => {
    const fig = json(heatmapFigure({ title: 'CM', series: 'ser', matrix: [[1]], extraLayout: { height: 300 } }));
    assert.equal(fig.layout.height, 300);
    assert.equal(fig.data[0].height, undefined);
    assert.deepEqual(fig.data[0].colorscale, SCALE);
  });

  it('DEVIATIONS 6: NaN inside a matrix is "nan", not a bare NaN token', () => {
    const text = plotString(heatmapFigure({ title: 'M', series: 's', matrix: [Float32Array.from([NaN, 1]), Float32Array.from([Infinity, 2])] }));
    assert.deepEqual(JSON.parse(text).data[0].z, [['nan', 1], ['inf', 2]]);
  });

  it('the colour scale fixes the out-of-range green of Python (DEVIATIONS 2)', () => {
    assert.deepEqual(colorScale()[4], [0.9, 'rgb(141, 214, 68)']);
  });
});

describe('surface figures (SF)', () => {
  it('66: title/series, tick labels, camera', () => {
    const fig = json(surfaceFigure({ title: 'SF', series: 'ser', matrix: [[1, 2], [3, 4]], xlabels: ['a', 'b'], camera: [1, 2, 3] }));
    assert.deepEqual(fig, {
      data: [
        {
          z: [[1, 2], [3, 4]],
          type: 'surface',
          contours: { y: { show: false, highlightcolor: '#fff4ff', project: { y: true } } },
          showscale: false,
          colorscale: SCALE,
          colorbar: BAR,
        },
      ],
      layout: {
        scene: {
          xaxis: { title: null, showgrid: false, nticks: 10, ticktext: ['a', 'b'], tickvals: [0, 1] },
          yaxis: { title: null, showgrid: false, nticks: 10, ticktext: null, tickvals: null },
          zaxis: { title: null, nticks: 5 },
          camera: { eye: { x: 1, y: 2, z: 3 } },
        },
        showlegend: false,
        title: 'SF/ser',
        name: 'ser',
      },
    });
  });
});
