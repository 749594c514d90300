// Live trades page. It subscribes to the trades channel with ably-js v2 and
// renders the last price per symbol, the recent trades and the connection
// status.
//
// Query parameters:
//   tokenUrl  the publisher's token endpoint (default
//             http://localhost:8080/token). It must return a signed Ably
//             TokenRequest. The page reads /config from the same origin and
//             path prefix.
//   channel   overrides the channel named by /config.
//
// Every value from the network is inserted with textContent or as an
// attribute value, never parsed as HTML.
'use strict';

(function () {
  const TRADE_EVENT = 'trade';

  const MAX_TRADE_ROWS = 50;
  // Caps the symbol table so that a stream of made-up symbols cannot grow
  // the page without bound. Trades of further symbols are rejected.
  const MAX_SYMBOLS = 500;

  const RATE_WINDOW_MS = 5000;
  const RATE_BUCKET_MS = 250;
  const RATE_REFRESH_MS = 500;

  const SIDE_PATTERN = /^(buy|sell)$/;
  const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/;

  const elements = {};

  // Model, updated as each message arrives. The view reads it once per
  // animation frame, so a burst of messages costs one render.
  const quotes = new Map(); // symbol -> {seq, price, change, percent, direction}
  const dirtySymbols = new Set();
  let pendingTrades = []; // accepted trades not yet rendered, oldest first
  let renderScheduled = false;
  const counters = { received: 0, ignored: 0, invalid: 0 };

  // Message arrival counts in RATE_BUCKET_MS buckets, for the rate display.
  const rateBuckets = new Array(RATE_WINDOW_MS / RATE_BUCKET_MS).fill(null).map(function () {
    return { id: -1, count: 0 };
  });
  const startedAt = performance.now();

  function byId(id) {
    const element = document.getElementById(id);
    if (element === null) {
      throw new Error('client.html is missing the element #' + id);
    }
    return element;
  }

  function setText(element, text) {
    element.textContent = text;
  }

  function showReason(element, text) {
    element.textContent = text;
    element.hidden = text === '';
  }

  // ---- messages -----------------------------------------------------------

  // decodeTrade returns the trade carried by message data (an object, or a
  // string with JSON text), or null when it is not a usable trade. A trade
  // needs a non-empty string symbol, a string price and a safe integer seq.
  function decodeTrade(data) {
    let value = data;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch (error) {
        return null;
      }
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return null;
    }
    if (typeof value.symbol !== 'string' || value.symbol === '') {
      return null;
    }
    if (typeof value.price !== 'string' || value.price === '') {
      return null;
    }
    if (!Number.isSafeInteger(value.seq)) {
      return null;
    }
    return {
      id: displayValue(value.id),
      symbol: value.symbol,
      price: value.price,
      size: displayValue(value.size),
      side: displayValue(value.side),
      seq: value.seq,
      ts: displayValue(value.ts),
    };
  }

  function displayValue(value) {
    if (value === undefined || value === null) {
      return '';
    }
    if (typeof value === 'object') {
      return JSON.stringify(value);
    }
    return String(value);
  }

  // priceChange returns the direction, change and percent change from
  // previous to current, both decimal strings. When either is not a plain
  // decimal, the direction is 'unknown' and the change is empty.
  function priceChange(previous, current) {
    const before = TradeDecimal.parse(previous);
    const after = TradeDecimal.parse(current);
    if (before === null || after === null) {
      return { direction: 'unknown', change: '', percent: '' };
    }
    const change = TradeDecimal.subtract(after, before);
    const sign = TradeDecimal.compare(after, before);
    const percent = TradeDecimal.percentChange(change, before);
    let direction = 'flat';
    if (sign > 0) {
      direction = 'up';
    } else if (sign < 0) {
      direction = 'down';
    }
    return {
      direction: direction,
      change: TradeDecimal.format(change, true),
      percent: percent === null ? '' : percent + '%',
    };
  }

  function onMessage(message) {
    countArrival();
    counters.received++;

    const trade = decodeTrade(message.data);
    if (trade === null) {
      counters.invalid++;
      scheduleRender();
      return;
    }

    const quote = quotes.get(trade.symbol);
    if (quote !== undefined && trade.seq <= quote.seq) {
      counters.ignored++;
      scheduleRender();
      return;
    }
    if (quote === undefined && quotes.size >= MAX_SYMBOLS) {
      counters.invalid++;
      scheduleRender();
      return;
    }

    let change = { direction: 'new', change: '', percent: '' };
    if (quote !== undefined) {
      change = priceChange(quote.price, trade.price);
    }
    quotes.set(trade.symbol, {
      seq: trade.seq,
      price: trade.price,
      direction: change.direction,
      change: change.change,
      percent: change.percent,
    });
    dirtySymbols.add(trade.symbol);

    pendingTrades.push(trade);
    if (pendingTrades.length > MAX_TRADE_ROWS) {
      pendingTrades = pendingTrades.slice(-MAX_TRADE_ROWS);
    }
    scheduleRender();
  }

  // ---- rate ---------------------------------------------------------------

  function countArrival() {
    const id = Math.floor(performance.now() / RATE_BUCKET_MS);
    const bucket = rateBuckets[id % rateBuckets.length];
    if (bucket.id !== id) {
      bucket.id = id;
      bucket.count = 0;
    }
    bucket.count++;
  }

  // messagesPerSecond averages over the last RATE_WINDOW_MS, or over the
  // time since the page started when that is shorter.
  function messagesPerSecond() {
    const now = performance.now();
    const currentId = Math.floor(now / RATE_BUCKET_MS);
    let count = 0;
    for (const bucket of rateBuckets) {
      if (bucket.id > currentId - rateBuckets.length) {
        count += bucket.count;
      }
    }
    const windowMs = Math.max(RATE_BUCKET_MS, Math.min(RATE_WINDOW_MS, now - startedAt));
    return count / (windowMs / 1000);
  }

  function renderRate() {
    setText(elements.rate, messagesPerSecond().toFixed(1));
  }

  // ---- view ---------------------------------------------------------------

  function scheduleRender() {
    if (renderScheduled) {
      return;
    }
    renderScheduled = true;
    window.requestAnimationFrame(render);
  }

  function render() {
    renderScheduled = false;
    setText(elements.received, String(counters.received));
    setText(elements.ignored, String(counters.ignored));
    setText(elements.invalid, String(counters.invalid));

    for (const symbol of dirtySymbols) {
      renderQuote(symbol, quotes.get(symbol));
    }
    dirtySymbols.clear();
    elements.quotesEmpty.hidden = quotes.size > 0;

    for (const trade of pendingTrades) {
      elements.trades.insertBefore(tradeRow(trade), elements.trades.firstChild);
    }
    pendingTrades = [];
    while (elements.trades.childElementCount > MAX_TRADE_ROWS) {
      elements.trades.lastElementChild.remove();
    }
  }

  function span(className, text) {
    const element = document.createElement('span');
    element.className = className;
    element.textContent = text;
    return element;
  }

  // quoteCard returns the card of symbol, creating it in sorted position.
  function quoteCard(symbol) {
    for (const card of elements.quotes.children) {
      const cardSymbol = card.getAttribute('data-symbol');
      if (cardSymbol === symbol) {
        return card;
      }
      if (cardSymbol > symbol) {
        return elements.quotes.insertBefore(newQuoteCard(symbol), card);
      }
    }
    return elements.quotes.appendChild(newQuoteCard(symbol));
  }

  function newQuoteCard(symbol) {
    const card = document.createElement('li');
    card.className = 'quote';
    card.setAttribute('data-symbol', symbol);
    card.appendChild(span('symbol', symbol));
    card.appendChild(span('price', ''));
    const change = span('change', '');
    change.appendChild(span('arrow', ''));
    change.lastChild.setAttribute('aria-hidden', 'true');
    change.appendChild(span('direction visually-hidden', ''));
    change.appendChild(span('change-value', ''));
    change.appendChild(span('change-percent', ''));
    card.appendChild(change);
    return card;
  }

  const ARROWS = { up: '▲', down: '▼', flat: '■', new: '', unknown: '' };
  const DIRECTION_WORDS = { up: 'up ', down: 'down ', flat: 'unchanged ', new: 'first trade', unknown: '' };

  function renderQuote(symbol, quote) {
    const card = quoteCard(symbol);
    card.setAttribute('data-direction', quote.direction);
    card.setAttribute('data-seq', String(quote.seq));
    setText(card.querySelector('.price'), quote.price);
    setText(card.querySelector('.arrow'), ARROWS[quote.direction]);
    setText(card.querySelector('.direction'), DIRECTION_WORDS[quote.direction]);
    setText(card.querySelector('.change-value'), quote.change);
    setText(card.querySelector('.change-percent'), quote.percent === '' ? '' : '(' + quote.percent + ')');
  }

  function tradeRow(trade) {
    const row = document.createElement('li');
    row.className = 'trade';
    row.setAttribute('data-seq', String(trade.seq));
    if (SIDE_PATTERN.test(trade.side)) {
      row.setAttribute('data-side', trade.side);
    }
    const time = TIMESTAMP_PATTERN.exec(trade.ts);
    const timeCell = span('trade-time', time === null ? trade.ts : time[1]);
    timeCell.title = trade.ts;
    row.appendChild(timeCell);
    row.appendChild(span('trade-symbol', trade.symbol));
    row.appendChild(span('trade-side', trade.side));
    row.appendChild(span('trade-size', trade.size));
    row.appendChild(span('trade-price', trade.price));
    row.appendChild(span('trade-seq', String(trade.seq)));
    if (trade.id !== '') {
      row.title = 'trade ' + trade.id;
    }
    return row;
  }

  function renderState(element, reasonElement, change) {
    element.setAttribute('data-state', change.current);
    setText(element, change.current);
    showReason(reasonElement, change.reason ? TradeSetup.describeError(change.reason) : '');
  }

  // ---- start --------------------------------------------------------------

  function fail(message) {
    elements.connectionState.setAttribute('data-state', 'failed');
    setText(elements.connectionState, 'failed');
    showReason(elements.connectionReason, message);
  }

  async function start() {
    elements.connectionState = byId('connection-state');
    elements.connectionReason = byId('connection-reason');
    elements.channelName = byId('channel-name');
    elements.channelState = byId('channel-state');
    elements.channelReason = byId('channel-reason');
    elements.rate = byId('rate');
    elements.received = byId('received');
    elements.ignored = byId('ignored');
    elements.invalid = byId('invalid');
    elements.quotes = byId('quotes');
    elements.quotesEmpty = byId('quotes-empty');
    elements.trades = byId('trades');
    elements.ablySource = byId('ably-source');
    elements.tokenUrl = byId('token-url');

    window.setInterval(renderRate, RATE_REFRESH_MS);

    let settings;
    try {
      settings = TradeSetup.readSettings();
    } catch (error) {
      fail(TradeSetup.describeError(error));
      return;
    }
    setText(elements.tokenUrl, settings.tokenUrl);

    let client;
    let channelName;
    try {
      const showRetry = function (message) {
        showReason(elements.connectionReason, message);
      };
      const [config, source] = await Promise.all([
        TradeSetup.loadConfig(settings.configUrl, showRetry),
        TradeSetup.loadAbly(),
      ]);
      setText(elements.ablySource, source);
      channelName = settings.channelOverride || config.channel;
      if (channelName === '') {
        throw new TradeSetup.ConfigError('no channel: /config returned an empty channel and the channel query parameter is not set');
      }
      client = new window.Ably.Realtime(TradeSetup.realtimeOptions(settings.tokenUrl, config.ablyEndpoint));
    } catch (error) {
      if (!TradeSetup.ablyLoaded()) {
        setText(elements.ablySource, 'not loaded');
      }
      fail(TradeSetup.describeError(error));
      return;
    }

    setText(elements.channelName, channelName);
    renderState(elements.connectionState, elements.connectionReason, { current: client.connection.state });
    client.connection.on(function (change) {
      renderState(elements.connectionState, elements.connectionReason, change);
    });

    // A failed connection fails the channel with the same reason, which
    // the connection already shows, so the channel shows only its own.
    const connectionFailed = function () {
      return client.connection.state === 'failed';
    };
    const channel = client.channels.get(channelName);
    channel.on(function (change) {
      renderState(elements.channelState, elements.channelReason, connectionFailed() ? { current: change.current } : change);
    });
    try {
      await channel.subscribe(TRADE_EVENT, onMessage);
    } catch (error) {
      if (!connectionFailed()) {
        showReason(elements.channelReason, 'subscribe failed: ' + TradeSetup.describeError(error));
      }
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    start().catch(function (error) {
      fail(TradeSetup.describeError(error));
    });
  });
})();
