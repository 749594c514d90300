// Message continuity of the live trades page: it notices when the channel
// reattaches without ably-js's resumed flag, so messages may have been
// missed, and reads the missed messages from channel history. It is a
// classic script that defines the global TradeContinuity.
'use strict';

var TradeContinuity = (function () {
  // History is read HISTORY_PAGE_LIMIT messages a page, for at most
  // MAX_HISTORY_PAGES pages.
  const HISTORY_PAGE_LIMIT = 100;
  const MAX_HISTORY_PAGES = 10;

  // watch calls onGap(since) whenever the channel reattaches after having
  // been attached, or sends an UPDATE, without the resumed flag. A reattach
  // with resumed set means that Ably delivered every message. since is the
  // value of newestTimestamp() just before the channel left the attached
  // state, or at the UPDATE: the timestamp of the newest message received
  // before the discontinuity, or null.
  function watch(channel, newestTimestamp, onGap) {
    let everAttached = false;
    let sinceBeforeOutage;
    channel.on(function (change) {
      if (change.current !== 'attached') {
        if (everAttached && sinceBeforeOutage === undefined) {
          sinceBeforeOutage = newestTimestamp();
        }
        return;
      }
      if (!everAttached) {
        everAttached = true;
        return;
      }
      const since = sinceBeforeOutage === undefined ? newestTimestamp() : sinceBeforeOutage;
      sinceBeforeOutage = undefined;
      if (!change.resumed) {
        onGap(since);
      }
    });
  }

  // readMissedMessages returns the channel's messages from the timestamp
  // on, oldest first, and whether older pages were left unread. Without a
  // timestamp it reads one page of the most recent messages. Ably's start
  // parameter is inclusive, so the message at the timestamp, which the
  // page already has, is read again.
  async function readMissedMessages(channel, since) {
    const params = { limit: HISTORY_PAGE_LIMIT };
    if (since !== null) {
      params.start = since;
    }
    let page = await channel.history(params);
    const messages = [];
    for (let pages = 1; ; pages++) {
      messages.push(...page.items);
      if (since === null || !page.hasNext() || pages === MAX_HISTORY_PAGES) {
        break;
      }
      page = await page.next();
    }
    messages.reverse();
    return { messages: messages, truncated: page.hasNext() };
  }

  return {
    watch: watch,
    readMissedMessages: readMissedMessages,
  };
})();
