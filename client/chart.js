// Small price charts for the quote cards: an inline SVG line of a symbol's
// recent prices, built with DOM APIs and no library. The price scale comes
// from the decimal strings with exact arithmetic (TradeDecimal.fraction),
// and floats appear only in the plotted coordinates, never in displayed
// values. It is a classic script that defines the global TradeChart.
'use strict';

var TradeChart = (function () {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // The viewBox; the SVG stretches to the card's width with CSS.
  const WIDTH = 120;
  const HEIGHT = 32;
  // Keeps the line's stroke inside the box at the lowest and highest price.
  const PADDING = 2;
  // Vertical resolution of TradeDecimal.fraction.
  const STEPS = 10000;

  function svgElement(name) {
    return document.createElementNS(SVG_NS, name);
  }

  // create returns an empty chart.
  function create() {
    const svg = svgElement('svg');
    svg.setAttribute('class', 'chart');
    svg.setAttribute('viewBox', '0 0 ' + WIDTH + ' ' + HEIGHT);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('role', 'img');
    svg.setAttribute('focusable', 'false');
    const title = svgElement('title');
    svg.appendChild(title);
    const line = svgElement('polyline');
    line.setAttribute('class', 'chart-line');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.appendChild(line);
    return svg;
  }

  // coordinate formats a plotted coordinate with two decimals.
  function coordinate(value) {
    return value.toFixed(2);
  }

  // update draws points, {seq, price} ordered by seq, on a chart made by
  // create. Prices that are not plain decimals are left out. The label
  // names the symbol, the number of prices and their range as the price
  // strings were received.
  function update(svg, symbol, points) {
    const plotted = [];
    for (const point of points) {
      const value = TradeDecimal.parse(point.price);
      if (value !== null) {
        plotted.push({ text: point.price, value: value });
      }
    }
    const title = svg.querySelector('title');
    const line = svg.querySelector('polyline');
    if (plotted.length === 0) {
      line.setAttribute('points', '');
      title.textContent = symbol + ': no price chart, no price is a plain decimal';
      svg.setAttribute('aria-label', title.textContent);
      return;
    }

    let low = plotted[0];
    let high = plotted[0];
    for (const point of plotted) {
      if (TradeDecimal.compare(point.value, low.value) < 0) {
        low = point;
      }
      if (TradeDecimal.compare(point.value, high.value) > 0) {
        high = point;
      }
    }

    const usableHeight = HEIGHT - 2 * PADDING;
    const usableWidth = WIDTH - 2 * PADDING;
    const coordinates = plotted.map(function (point, index) {
      const x = plotted.length === 1 ? WIDTH / 2 : PADDING + (index * usableWidth) / (plotted.length - 1);
      const y = HEIGHT - PADDING - TradeDecimal.fraction(point.value, low.value, high.value, STEPS) * usableHeight;
      return coordinate(x) + ',' + coordinate(y);
    });
    if (plotted.length === 1) {
      // A polyline of one point draws nothing, so draw a flat line.
      const y = coordinates[0].split(',')[1];
      coordinates.splice(0, 1, coordinate(PADDING) + ',' + y, coordinate(WIDTH - PADDING) + ',' + y);
    }
    line.setAttribute('points', coordinates.join(' '));
    const count = plotted.length === 1 ? '1 price' : plotted.length + ' prices';
    title.textContent = symbol + ': last ' + count + ', low ' + low.text + ', high ' + high.text;
    svg.setAttribute('aria-label', title.textContent);
  }

  return {
    create: create,
    update: update,
  };
})();
