// The channels the live trades page follows on its one ably-js connection.
// Each channel has its own attachment with the rewind param, its own
// subscription, its newest message timestamp and its continuity watch, so
// a gap on one channel reads the history of that channel only. It is a
// classic script that defines the global TradeChannels, which client.js
// uses.
'use strict';

var TradeChannels = (function () {
  // STATE_ORDER ranks the ably-js channel states from the one most in need
  // of attention. The summary of many channels is the first state in this
  // order that any of them is in, so "attached" means every channel is.
  const STATE_ORDER = ['failed', 'suspended', 'detached', 'detaching', 'attaching', 'initialized', 'attached'];

  // summarizeStates returns the state shown for all the channels together.
  function summarizeStates(states) {
    let best = STATE_ORDER.length - 1;
    for (const state of states) {
      const rank = STATE_ORDER.indexOf(state);
      if (rank >= 0 && rank < best) {
        best = rank;
      }
    }
    return STATE_ORDER[best];
  }

  // follow attaches to each named channel of client, subscribes to
  // eventName and returns the list of followed channels, each {name,
  // channel}. options:
  //   rewind            value of the rewind channel param
  //   onMessage         called with each message of any channel
  //   onGap             called with (channel, name, since) when a channel
  //                     reattaches without continuity. It returns a promise,
  //                     and the next call for the same channel waits for it.
  //   onStateChange     called with (name, change) on each channel state change
  //   onSubscribeError  called with (name, error) when a subscribe fails
  function follow(client, names, eventName, options) {
    return names.map(function (name) {
      const channel = client.channels.get(name, { params: { rewind: options.rewind } });
      // newestTimestamp is the Ably timestamp of the channel's newest live
      // message, the point from which its history is read after a gap.
      let newestTimestamp = null;
      let gapFills = Promise.resolve();

      channel.on(function (change) {
        options.onStateChange(name, change);
      });
      TradeContinuity.watch(channel, function () {
        return newestTimestamp;
      }, function (since) {
        gapFills = gapFills.then(function () {
          return options.onGap(channel, name, since);
        });
      });
      channel.subscribe(eventName, function (message) {
        if (typeof message.timestamp === 'number' && (newestTimestamp === null || message.timestamp > newestTimestamp)) {
          newestTimestamp = message.timestamp;
        }
        options.onMessage(message);
      }).catch(function (error) {
        options.onSubscribeError(name, error);
      });
      return { name: name, channel: channel };
    });
  }

  return {
    summarizeStates: summarizeStates,
    follow: follow,
  };
})();
