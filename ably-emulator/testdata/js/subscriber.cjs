// Subscriber driven by the Go test TestAblyJS_SubscribesAndPublishes.
//
// Usage: node subscriber.cjs '<config JSON>'
// where the config is {host, port, authUrl, channel, expect, binary}.
//
// It connects to the emulator with ably-js through authUrl (token auth, as
// a browser does), subscribes to the channel, and writes one JSON line per
// event to stdout: "attached", then one "message" per received message.
// After `expect` messages it publishes one message over realtime, writes
// "published" with the serial from the ACK, closes, and writes "closed".
// Any failure writes an "error" line and exits with status 1.
'use strict';

const Ably = require('ably');

const config = JSON.parse(process.argv[2]);

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function fail(stage, err) {
  emit({ event: 'error', stage, message: String((err && err.message) || err), code: err && err.code });
  process.exit(1);
}

// Stop a hung run; the Go test has its own, longer timeout.
setTimeout(() => fail('timeout', new Error('no result within 60 seconds')), 60_000);

// Binary data is a Buffer in Node; the test compares it as base64.
function describeData(data) {
  if (Buffer.isBuffer(data) || data instanceof Uint8Array) {
    return { binary: Buffer.from(data).toString('base64') };
  }
  return data;
}

async function main() {
  const client = new Ably.Realtime({
    authUrl: config.authUrl,
    endpoint: config.host,
    port: config.port,
    tls: false,
    useBinaryProtocol: config.binary,
    transports: ['web_socket'],
    logLevel: 0,
  });
  client.connection.on('failed', (change) => fail('connection', change.reason));

  const channel = client.channels.get(config.channel);
  let received = 0;
  let resolveAll;
  const allReceived = new Promise((resolve) => {
    resolveAll = resolve;
  });
  await channel.subscribe((message) => {
    emit({
      event: 'message',
      id: message.id,
      name: message.name,
      data: describeData(message.data),
      encoding: message.encoding || '',
      clientId: message.clientId || '',
    });
    received += 1;
    if (received >= config.expect) {
      resolveAll();
    }
  });
  emit({ event: 'attached', connectionId: client.connection.id, clientId: client.auth.clientId || '' });

  await allReceived;
  const result = await channel.publish('from-js', { hello: 'go', binary: config.binary });
  emit({ event: 'published', serials: (result && result.serials) || [] });

  await new Promise((resolve) => {
    client.connection.once('closed', resolve);
    client.close();
  });
  emit({ event: 'closed' });
  process.exit(0);
}

main().catch((err) => fail('main', err));
