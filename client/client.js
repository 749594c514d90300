// Live trades page. It subscribes to the trades channel, or to each of the
// channels that the publisher routes trades to, on one ably-js v2
// connection. It renders the last price and a chart per symbol, the recent
// trades, the connection status, and notices when the connection is lost or
// messages may have been missed.
//
// Query parameters:
//   tokenUrl  the publisher's token endpoint (default
//             http://localhost:8080/token). It must return a signed Ably
//             TokenRequest. The page reads /config from the same origin and
//             path prefix.
//   channel   the one channel to follow, in place of the channel or the
//             channels list of /config.
//
// Every value from the network is inserted with textContent or as an
// attribute value, never parsed as HTML.
//
// Test hook: window.__tradesSeen is a read-only property whose value is a
// new array of the ids of every trade the page accepted, oldest first.
'use strict';

(function () {
  const TRADE_EVENT = 'trade';

  // A page that opens late starts with each channel's recent trades: the
  // rewind channel param makes Ably send the channel's last REWIND_COUNT
  // messages right after ATTACHED, in channel order and before any newer
  // message.
  // Rewind is used rather than channel.history() for three reasons. It
  // needs no second request. It leaves no window between a history page
  // and the first live message in which a trade could be lost or shown
  // twice. And the trades arrive oldest first on the live path, where the
  // per-symbol seq rule applies unchanged. Ably sends at most 100 messages
  // by rewind.
  const REWIND_COUNT = TradeBook.MAX_TRADE_ROWS;

  const RATE_WINDOW_MS = 5000;
  const RATE_BUCKET_MS = 250;
  const RATE_REFRESH_MS = 500;

  const SIDE_PATTERN = /^(buy|sell)$/;
  const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/;

  const elements = {};
  let banner;
  let missedNotice;

  // Model, updated as each message arrives. The view reads it once per
  // animation frame, so a burst of messages costs one render.
  const book = TradeBook.create();
  let renderScheduled = false;
  // Rows of the trade list by entry arrival number, reused between renders.
  let tradeRows = new Map();

  Object.defineProperty(window, '__tradesSeen', {
    get: function () {
      return book.acceptedIds();
    },
  });

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

  function onMessage(message) {
    countArrival();
    book.addLive(message);
    scheduleRender();
  }

  // ---- gaps ---------------------------------------------------------------

  // fillGap adds the trades that the history of the named channel has and
  // the page has not seen, and reports the result in the missed-messages
  // notice.
  async function fillGap(channel, name, since) {
    missedNotice.loading(name);
    try {
      const result = await TradeContinuity.readMissedMessages(channel, since);
      let recovered = 0;
      for (const message of result.messages) {
        if (message.name === TRADE_EVENT && book.addFromHistory(message) === 'recovered') {
          recovered++;
        }
      }
      scheduleRender();
      missedNotice.recovered(name, recovered, result.truncated);
    } catch (error) {
      missedNotice.failed(name, TradeSetup.describeError(error));
    }
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
    const counters = book.counters;
    setText(elements.received, String(counters.received));
    setText(elements.ignored, String(counters.ignored));
    setText(elements.invalid, String(counters.invalid));
    setText(elements.recovered, String(counters.recovered));

    const changes = book.takeChanges();
    for (const symbol of changes.symbols) {
      renderQuote(symbol, book.quote(symbol));
    }
    elements.quotesEmpty.hidden = book.symbolCount() > 0;
    if (changes.tape) {
      renderTrades();
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
    card.appendChild(TradeChart.create());
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
    TradeChart.update(card.querySelector('.chart'), symbol, quote.points);
  }

  // renderTrades shows the trade list of the book, reusing the rows of
  // trades that stay in it.
  function renderTrades() {
    const rows = new Map();
    const ordered = [];
    for (const entry of book.tape()) {
      let row = tradeRows.get(entry.arrival);
      if (row === undefined) {
        row = tradeRow(entry.trade);
      }
      rows.set(entry.arrival, row);
      ordered.push(row);
    }
    tradeRows = rows;
    elements.trades.replaceChildren(...ordered);
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
      row.setAttribute('data-id', trade.id);
    }
    return row;
  }

  function renderConnectionState(state) {
    elements.connectionState.setAttribute('data-state', state);
    setText(elements.connectionState, state);
  }

  // ---- channels -----------------------------------------------------------

  // State and reason of each followed channel, by name, in follow order.
  const channelStates = new Map();
  // connectionDown reports whether the connection is failed or suspended.
  // A failed or suspended connection moves the channels to the same state
  // with the same reason, which the banner already shows, so a channel
  // change or subscribe failure while it is down keeps no reason.
  let connectionDown = function () {
    return false;
  };

  // renderChannelNames shows the followed channel, or for many channels
  // the pattern (or their count) and the list of their names.
  function renderChannelNames(names, pattern) {
    if (names.length === 1) {
      setText(elements.channelName, names[0]);
      return;
    }
    setText(elements.channelName, pattern !== '' ? pattern : names.length + ' channels');
    setText(elements.channelSummary, 'Following ' + names.length + ' channels');
    const items = names.map(function (name) {
      const item = document.createElement('li');
      item.textContent = name;
      return item;
    });
    elements.channelNames.replaceChildren(...items);
    elements.channelList.hidden = false;
  }

  // renderChannelStates shows the state of the one channel, or of the
  // channel most in need of attention, and the reason of the first channel
  // that has one.
  function renderChannelStates() {
    const entries = Array.from(channelStates, function ([name, entry]) {
      return { name: name, state: entry.state, reason: entry.reason };
    });
    if (entries.length === 0) {
      return;
    }
    const state = TradeChannels.summarizeStates(entries.map(function (entry) {
      return entry.state;
    }));
    elements.channelState.setAttribute('data-state', state);
    setText(elements.channelState, state);

    const withReason = entries.filter(function (entry) {
      return entry.reason !== '';
    });
    let reason = '';
    if (withReason.length > 0) {
      reason = withReason[0].reason;
      if (entries.length > 1) {
        reason = withReason[0].name + ': ' + reason;
      }
      if (withReason.length > 1) {
        reason += ' (and ' + (withReason.length - 1) + ' more channels)';
      }
    }
    showReason(elements.channelReason, reason);
  }

  // ---- start --------------------------------------------------------------

  function fail(message) {
    elements.connectionState.setAttribute('data-state', 'failed');
    setText(elements.connectionState, 'failed');
    banner.setupProblem('failed', message, false);
  }

  function findElements() {
    elements.connectionState = byId('connection-state');
    elements.channelName = byId('channel-name');
    elements.channelList = byId('channel-list');
    elements.channelSummary = byId('channel-summary');
    elements.channelNames = byId('channel-names');
    elements.channelState = byId('channel-state');
    elements.channelReason = byId('channel-reason');
    elements.rate = byId('rate');
    elements.received = byId('received');
    elements.ignored = byId('ignored');
    elements.invalid = byId('invalid');
    elements.recovered = byId('recovered');
    elements.quotes = byId('quotes');
    elements.quotesEmpty = byId('quotes-empty');
    elements.trades = byId('trades');
    elements.ablySource = byId('ably-source');
    elements.tokenUrl = byId('token-url');
    banner = TradeNotices.createBanner({
      banner: byId('connection-banner'),
      title: byId('connection-title'),
      reason: byId('connection-reason'),
      hint: byId('connection-hint'),
    });
    missedNotice = TradeNotices.createMissedNotice({
      notice: byId('missed-notice'),
      text: byId('missed-text'),
      dismiss: byId('missed-dismiss'),
    });
  }

  async function start() {
    findElements();
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
    let config;
    let channelNames;
    try {
      const showRetry = function (message) {
        banner.setupProblem('initialized', message, true);
      };
      let source;
      [config, source] = await Promise.all([
        TradeSetup.loadConfig(settings.configUrl, showRetry),
        TradeSetup.loadAbly(),
      ]);
      setText(elements.ablySource, source);
      channelNames = TradeSetup.channelsToFollow(config, settings.channelOverride);
      client = new window.Ably.Realtime(TradeSetup.realtimeOptions(settings.tokenUrl, config.ablyEndpoint));
    } catch (error) {
      if (!TradeSetup.ablyLoaded()) {
        setText(elements.ablySource, 'not loaded');
      }
      fail(TradeSetup.describeError(error));
      return;
    }

    renderChannelNames(channelNames, settings.channelOverride === '' ? config.channelPattern : '');
    if (channelNames.length > 1) {
      missedNotice.nameChannels();
    }
    renderConnectionState(client.connection.state);
    client.connection.on(function (change) {
      renderConnectionState(change.current);
      banner.connectionChanged(change, TradeSetup.describeError);
    });
    connectionDown = function () {
      return client.connection.state === 'failed' || client.connection.state === 'suspended';
    };

    for (const name of channelNames) {
      channelStates.set(name, { state: 'initialized', reason: '' });
    }
    TradeChannels.follow(client, channelNames, TRADE_EVENT, {
      rewind: String(REWIND_COUNT),
      onMessage: onMessage,
      onGap: fillGap,
      onStateChange: function (name, change) {
        // An attached channel that lost continuity carries a reason such
        // as 90004, and the missed-messages notice already reports it.
        const showsReason = change.reason && change.current !== 'attached' && !connectionDown();
        channelStates.set(name, {
          state: change.current,
          reason: showsReason ? TradeSetup.describeError(change.reason) : '',
        });
        renderChannelStates();
      },
      onSubscribeError: function (name, error) {
        const entry = channelStates.get(name);
        if (entry.reason === '' && !connectionDown()) {
          entry.reason = 'subscribe failed: ' + TradeSetup.describeError(error);
        }
        renderChannelStates();
      },
    });
    renderChannelStates();
  }

  document.addEventListener('DOMContentLoaded', function () {
    start().catch(function (error) {
      if (banner === undefined) {
        throw error;
      }
      fail(TradeSetup.describeError(error));
    });
  });
})();
