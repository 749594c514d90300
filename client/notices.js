// The notices of the live trades page: the connection banner, shown while
// the connection is lost or cannot start, and the missed-messages notice,
// shown when a channel reattaches without continuity. It is a classic
// script that defines the global TradeNotices, which client.js uses. Text
// is set with textContent only.
'use strict';

var TradeNotices = (function () {
  const LOST_STATES = new Set(['disconnected', 'suspended', 'failed', 'closed']);

  const TITLES = {
    disconnected: 'Connection lost',
    suspended: 'Connection suspended',
    failed: 'Connection failed',
    closed: 'Connection closed',
    connecting: 'Reconnecting',
  };

  const MISSED_TEXT = 'Messages may have been missed while disconnected.';

  function retryHint(retryIn) {
    if (typeof retryIn !== 'number' || retryIn <= 0) {
      return 'Retrying now.';
    }
    return 'Retrying in ' + Math.ceil(retryIn / 1000) + ' s.';
  }

  // hintFor returns what happens next in state, for the banner.
  function hintFor(state, retryIn) {
    switch (state) {
      case 'disconnected':
        return 'Trades are delayed until the connection is back. ' + retryHint(retryIn);
      case 'suspended':
        return 'No trades arrive until the connection is back. ' + retryHint(retryIn);
      case 'connecting':
        return 'Trades are delayed until the connection is back.';
      default:
        return 'Trades have stopped. Reload the page to try again.';
    }
  }

  // createBanner returns the controller of the connection banner, whose
  // elements are given by id. The banner element has role="alert", so a
  // screen reader announces it when it appears or changes.
  function createBanner(elements) {
    let lost = false;
    let reason = '';

    function show(state, title, hint) {
      elements.banner.setAttribute('data-state', state);
      elements.title.textContent = title;
      elements.reason.textContent = reason;
      elements.reason.hidden = reason === '';
      elements.hint.textContent = hint;
      elements.banner.hidden = false;
    }

    function hide() {
      reason = '';
      elements.banner.hidden = true;
      elements.banner.setAttribute('data-state', '');
      elements.reason.textContent = '';
      elements.title.textContent = '';
      elements.hint.textContent = '';
    }

    return {
      // connectionChanged updates the banner for an ably-js
      // ConnectionStateChange. It shows the banner from the loss of the
      // connection until it is connected again, keeping the reason of the
      // loss while ably-js reconnects.
      connectionChanged: function (change, describe) {
        const state = change.current;
        if (change.reason) {
          reason = describe(change.reason);
        }
        if (state === 'connected') {
          lost = false;
          hide();
          return;
        }
        if (LOST_STATES.has(state)) {
          lost = true;
          show(state, TITLES[state], hintFor(state, change.retryIn));
          return;
        }
        if (state === 'connecting' && lost) {
          show(state, TITLES.connecting, hintFor(state));
        }
      },
      // setupProblem shows a problem from before ably-js connects, such as
      // /config not loading yet. A failed setup stops the page.
      setupProblem: function (state, message, retrying) {
        reason = message;
        if (retrying) {
          show(state, 'Not connected yet', 'Retrying.');
        } else {
          show(state, TITLES.failed, hintFor('failed'));
        }
      },
    };
  }

  // createMissedNotice returns the controller of the missed-messages
  // notice. Each method takes the name of the channel whose history is
  // read, and the notice lists the result of each such channel, named after
  // nameChannels. Its data-state is "loading" while any
  // channel's history loads, else "failed" when any failed, else
  // "recovered". Dismiss hides it and removes the finished results.
  function createMissedNotice(elements) {
    // Result of each channel, by name, in the order the gaps were found.
    const results = new Map();
    let namesShown = false;

    elements.dismiss.addEventListener('click', function () {
      elements.notice.hidden = true;
      for (const [name, result] of results) {
        if (result.state !== 'loading') {
          results.delete(name);
        }
      }
    });

    function set(name, state, text) {
      results.delete(name);
      results.set(name, { state: state, text: text });
      const states = Array.from(results.values(), function (result) {
        return result.state;
      });
      let noticeState = 'recovered';
      if (states.includes('loading')) {
        noticeState = 'loading';
      } else if (states.includes('failed')) {
        noticeState = 'failed';
      }
      const parts = [MISSED_TEXT];
      for (const [channel, result] of results) {
        parts.push(namesShown ? channel + ': ' + result.text : result.text);
      }
      elements.notice.setAttribute('data-state', noticeState);
      elements.text.textContent = parts.join(' ');
      elements.notice.hidden = false;
    }

    return {
      // nameChannels makes the notice name the channel of each result, for
      // a page that follows more than one channel.
      nameChannels: function () {
        namesShown = true;
      },
      loading: function (name) {
        set(name, 'loading', 'Loading recent trades from history…');
      },
      recovered: function (name, count, truncated) {
        let text = count === 1 ? 'Recovered 1 trade from history.' : 'Recovered ' + count + ' trades from history.';
        if (count === 0) {
          text = 'No missing trades found in history.';
        }
        if (truncated) {
          text += ' Older missed trades were not loaded.';
        }
        set(name, 'recovered', text);
      },
      failed: function (name, message) {
        set(name, 'failed', 'Could not load history: ' + message);
      },
    };
  }

  return {
    createBanner: createBanner,
    createMissedNotice: createMissedNotice,
  };
})();
