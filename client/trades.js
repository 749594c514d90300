// The trades the page holds: the last price and recent prices per symbol,
// the trade list, the counters and the trades seen, for de-duplication. It
// has no DOM code. It is a classic script that defines the global
// TradeBook, which client.js uses.
//
// Trades arrive by two paths. Live messages, including rewind and resume
// replays, keep the seq rule: a trade whose seq is not greater than the
// last seen for its symbol is stale and ignored. Messages read from history
// after a gap can be older trades that the page missed. Each one not seen
// before is added to the trade list and the chart. It changes the last
// price only when its seq is the newest for its symbol.
'use strict';

var TradeBook = (function () {
  // The trade list shows the newest MAX_TRADE_ROWS trades.
  const MAX_TRADE_ROWS = 50;
  // Caps the symbol table so that a stream of made-up symbols cannot grow
  // the page without bound. Trades of further symbols are rejected.
  const MAX_SYMBOLS = 500;
  // Each symbol's chart shows its last MAX_CHART_POINTS prices by seq.
  const MAX_CHART_POINTS = 60;
  // Bounds the memory of seen message ids, trade ids and symbol seqs, used
  // to drop duplicates from history, and of accepted trade ids.
  const MAX_REMEMBERED_KEYS = 30000;
  const MAX_ACCEPTED_IDS = 10000;

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

  // newerFirst orders trade list entries by channel order, newest first:
  // by the Ably message timestamp, then by message serial, which Ably makes
  // sortable, then by arrival at the page.
  function newerFirst(a, b) {
    if (a.timestamp !== b.timestamp) {
      return b.timestamp - a.timestamp;
    }
    if (a.serial !== '' && b.serial !== '' && a.serial !== b.serial) {
      return a.serial < b.serial ? 1 : -1;
    }
    return b.arrival - a.arrival;
  }

  // insertSorted inserts item into the sorted array and returns its index.
  function insertSorted(array, item, compare) {
    let index = array.length;
    while (index > 0 && compare(array[index - 1], item) > 0) {
      index--;
    }
    array.splice(index, 0, item);
    return index;
  }

  function create() {
    const quotes = new Map(); // symbol -> {seq, price, direction, change, percent, points}
    const tape = []; // trade list entries, newest first
    const remembered = new Map(); // key -> true, oldest first
    let acceptedIds = [];
    let arrivals = 0;
    const counters = { received: 0, ignored: 0, invalid: 0, recovered: 0, duplicates: 0 };
    const changes = { symbols: new Set(), tape: false };

    function remember(key) {
      remembered.delete(key);
      remembered.set(key, true);
      if (remembered.size > MAX_REMEMBERED_KEYS) {
        remembered.delete(remembered.keys().next().value);
      }
    }

    function tradeKeys(trade) {
      const keys = ['seq:' + trade.symbol + '\n' + trade.seq];
      if (trade.id !== '') {
        keys.push('id:' + trade.id);
      }
      return keys;
    }

    function messageKey(message) {
      return message.id ? 'message:' + message.id : '';
    }

    // accept adds a trade to the chart and the trade list, and to the last
    // price when updateQuote is set.
    function accept(trade, message, updateQuote) {
      for (const key of tradeKeys(trade)) {
        remember(key);
      }
      acceptedIds.push(trade.id !== '' ? trade.id : trade.symbol + '#' + trade.seq);
      if (acceptedIds.length > MAX_ACCEPTED_IDS) {
        acceptedIds = acceptedIds.slice(-MAX_ACCEPTED_IDS);
      }

      let quote = quotes.get(trade.symbol);
      if (quote === undefined) {
        quote = { seq: trade.seq, price: trade.price, direction: 'new', change: '', percent: '', points: [] };
        quotes.set(trade.symbol, quote);
      } else if (updateQuote) {
        const change = priceChange(quote.price, trade.price);
        quote.seq = trade.seq;
        quote.price = trade.price;
        quote.direction = change.direction;
        quote.change = change.change;
        quote.percent = change.percent;
      }
      insertSorted(quote.points, { seq: trade.seq, price: trade.price }, function (a, b) {
        return a.seq - b.seq;
      });
      if (quote.points.length > MAX_CHART_POINTS) {
        quote.points.shift();
      }
      changes.symbols.add(trade.symbol);

      const entry = {
        trade: trade,
        timestamp: typeof message.timestamp === 'number' ? message.timestamp : 0,
        serial: typeof message.serial === 'string' ? message.serial : '',
        arrival: ++arrivals,
      };
      if (insertSorted(tape, entry, newerFirst) < MAX_TRADE_ROWS) {
        changes.tape = true;
      }
      if (tape.length > MAX_TRADE_ROWS) {
        tape.pop();
      }
    }

    // addLive handles a message from the subscription and returns
    // 'accepted', 'stale' or 'invalid'.
    //
    // NOTE: the seq rule assumes that a symbol's trades arrive in seq order,
    // which holds only for trades on one channel from one replica. Trades of
    // one symbol on two channels, such as trades:buy and trades:sell, can
    // arrive out of seq order, and the older one is then counted as stale.
    function addLive(message) {
      counters.received++;
      const key = messageKey(message);
      if (key !== '') {
        remember(key);
      }
      const trade = decodeTrade(message.data);
      if (trade === null) {
        counters.invalid++;
        return 'invalid';
      }
      const quote = quotes.get(trade.symbol);
      if (quote !== undefined && trade.seq <= quote.seq) {
        counters.ignored++;
        return 'stale';
      }
      if (quote === undefined && quotes.size >= MAX_SYMBOLS) {
        counters.invalid++;
        return 'invalid';
      }
      accept(trade, message, true);
      return 'accepted';
    }

    // addFromHistory handles a message read from history after a gap, in
    // oldest-first order, and returns 'recovered', 'duplicate' or 'invalid'.
    // A message or trade seen before is a duplicate: by Ably message id, by
    // trade id, or by symbol and seq.
    function addFromHistory(message) {
      const key = messageKey(message);
      if (key !== '' && remembered.has(key)) {
        counters.duplicates++;
        return 'duplicate';
      }
      if (key !== '') {
        remember(key);
      }
      const trade = decodeTrade(message.data);
      if (trade === null) {
        counters.invalid++;
        return 'invalid';
      }
      if (tradeKeys(trade).some(function (tradeKey) { return remembered.has(tradeKey); })) {
        counters.duplicates++;
        return 'duplicate';
      }
      const quote = quotes.get(trade.symbol);
      if (quote === undefined && quotes.size >= MAX_SYMBOLS) {
        counters.invalid++;
        return 'invalid';
      }
      accept(trade, message, quote === undefined || trade.seq > quote.seq);
      counters.recovered++;
      return 'recovered';
    }

    // takeChanges returns the symbols whose card changed and whether the
    // trade list changed since the last call, and clears both.
    function takeChanges() {
      const taken = { symbols: Array.from(changes.symbols), tape: changes.tape };
      changes.symbols.clear();
      changes.tape = false;
      return taken;
    }

    return {
      counters: counters,
      addLive: addLive,
      addFromHistory: addFromHistory,
      takeChanges: takeChanges,
      quote: function (symbol) {
        return quotes.get(symbol);
      },
      symbolCount: function () {
        return quotes.size;
      },
      // tape returns the trade list entries, newest first.
      tape: function () {
        return tape.slice();
      },
      // acceptedIds returns the ids of the accepted trades, oldest first.
      acceptedIds: function () {
        return acceptedIds.slice();
      },
    };
  }

  return {
    MAX_TRADE_ROWS: MAX_TRADE_ROWS,
    decodeTrade: decodeTrade,
    create: create,
  };
})();
