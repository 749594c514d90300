// Realtime client driven by the Go tests of history, rewind and resume
// (ably-emulator/emulator/js_client_test.go).
//
// Usage: node client.cjs '<config JSON>'
// where the config is {host, port, authUrl, channel, params, binary,
// retryMs}: params are the channel params (such as {rewind: "5"}) and
// retryMs sets ably-js's disconnected and suspended retry timeouts.
//
// It connects to the emulator with ably-js through authUrl, subscribes to
// the channel and writes one JSON line per event to stdout:
//   {event: "connection", state, id, reason}  every connection state change
//   {event: "channel", state, resumed, hasBacklog, reason}  every channel
//       state change and UPDATE event (state "update")
//   {event: "message", id, name, data, serial}  every received message
//   {event: "history", ids, hasNext}  one history page, after a command
//   {event: "closed"}  after the close command
// reason is {code, message} or null. Any failure writes
// {event: "error", stage, message, code} and exits with status 1.
//
// It reads commands from stdin, one per line:
//   history <JSON params>  reads history with those params, page by page
//   close                  closes the client and exits
'use strict';

const readline = require('node:readline');
const Ably = require('ably');

const config = JSON.parse(process.argv[2]);

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function describeReason(reason) {
  if (!reason) {
    return null;
  }
  return { code: reason.code || 0, message: reason.message || String(reason) };
}

function fail(stage, err) {
  emit({ event: 'error', stage, message: String((err && err.message) || err), code: (err && err.code) || 0 });
  process.exit(1);
}

// Stop a hung run; the Go test has its own, longer timeout.
setTimeout(() => fail('timeout', new Error('not closed within 120 seconds')), 120_000);

const options = {
  authUrl: config.authUrl,
  endpoint: config.host,
  port: config.port,
  tls: false,
  useBinaryProtocol: config.binary,
  transports: ['web_socket'],
  fallbackHosts: [],
  disableConnectivityCheck: true,
  logLevel: 0,
};
if (config.retryMs) {
  options.disconnectedRetryTimeout = config.retryMs;
  options.suspendedRetryTimeout = config.retryMs;
}
const client = new Ably.Realtime(options);

client.connection.on((change) => {
  emit({
    event: 'connection',
    state: change.current,
    id: client.connection.id || '',
    reason: describeReason(change.reason),
  });
});

const channel = client.channels.get(config.channel, { params: config.params || {} });
// ably-js calls a listener of every event with this.event set to the event
// name, which is the new state or "update".
const onChannelChange = function (change) {
  emit({
    event: 'channel',
    state: this.event,
    resumed: Boolean(change.resumed),
    hasBacklog: Boolean(change.hasBacklog),
    reason: describeReason(change.reason),
  });
};
channel.on(onChannelChange);

async function readHistory(params) {
  let page = await channel.history(params);
  for (;;) {
    emit({ event: 'history', ids: page.items.map((m) => m.id), hasNext: page.hasNext() });
    if (!page.hasNext()) {
      return;
    }
    page = await page.next();
  }
}

async function main() {
  await channel.subscribe((message) => {
    emit({ event: 'message', id: message.id, name: message.name, data: message.data, serial: message.serial || '' });
  });

  const commands = readline.createInterface({ input: process.stdin });
  for await (const line of commands) {
    const [command, ...rest] = line.split(' ');
    if (command === 'history') {
      await readHistory(JSON.parse(rest.join(' ') || '{}')).catch((err) => fail('history', err));
    } else if (command === 'close') {
      break;
    } else {
      fail('command', new Error('unknown command ' + JSON.stringify(line)));
    }
  }
  await new Promise((resolve) => {
    client.connection.once('closed', resolve);
    client.close();
  });
  emit({ event: 'closed' });
  process.exit(0);
}

main().catch((err) => fail('main', err));
