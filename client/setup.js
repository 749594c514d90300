// Settings of the live trades page: the query parameters, the publisher's
// /config, loading ably-js and the ably-js client options. It is a classic
// script that defines the global TradeSetup, which client.js uses.
'use strict';

var TradeSetup = (function () {
  const DEFAULT_TOKEN_URL = 'http://localhost:8080/token';
  const LOCAL_ABLY_URL = 'ably.min.js';
  const CDN_ABLY_URL = 'https://cdn.ably.com/lib/ably.min-2.js';

  const CONFIG_TIMEOUT_MS = 10000;
  const CONFIG_ATTEMPTS = 30;
  const CONFIG_RETRY_DELAY_MS = 2000;

  // describeError returns the message of an Error or ably-js ErrorInfo,
  // with its Ably error code when it has one.
  function describeError(error) {
    if (!error) {
      return '';
    }
    let text = error.message || String(error);
    if (error.code) {
      text += ' (code ' + error.code + ')';
    }
    return text;
  }

  // ConfigError marks a configuration that retrying cannot fix.
  class ConfigError extends Error {}

  // readSettings returns the token URL, the /config URL next to it and the
  // channel override from the query string, or throws naming the bad value.
  function readSettings() {
    const query = new URLSearchParams(window.location.search);
    const tokenText = query.get('tokenUrl') || DEFAULT_TOKEN_URL;
    let tokenUrl;
    try {
      tokenUrl = new URL(tokenText, window.location.href);
    } catch (error) {
      throw new Error('invalid tokenUrl ' + JSON.stringify(tokenText) + ': not a URL');
    }
    if (tokenUrl.protocol !== 'http:' && tokenUrl.protocol !== 'https:') {
      throw new Error('invalid tokenUrl ' + JSON.stringify(tokenText) + ': use an http or https URL');
    }
    if (!tokenUrl.pathname.endsWith('/token')) {
      throw new Error('invalid tokenUrl ' + JSON.stringify(tokenText) + ': the path must end in /token');
    }
    const configUrl = new URL(tokenUrl.href);
    configUrl.pathname = tokenUrl.pathname.slice(0, -'/token'.length) + '/config';
    configUrl.search = '';
    configUrl.hash = '';
    return {
      tokenUrl: tokenUrl.href,
      configUrl: configUrl.href,
      channelOverride: query.get('channel') || '',
    };
  }

  function delay(ms) {
    return new Promise(function (resolve) {
      setTimeout(resolve, ms);
    });
  }

  async function fetchConfigOnce(configUrl) {
    const abort = new AbortController();
    const timer = setTimeout(function () {
      abort.abort();
    }, CONFIG_TIMEOUT_MS);
    try {
      const response = await fetch(configUrl, {
        headers: { accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
        signal: abort.signal,
      });
      if (!response.ok) {
        throw new Error('GET ' + configUrl + ' failed: HTTP ' + response.status);
      }
      return await response.json();
    } finally {
      clearTimeout(timer);
    }
  }

  // loadConfig fetches /config, retrying while the publisher is not up yet,
  // and returns {channel, channelPattern, channels, ablyEndpoint} after
  // checking them. It calls onRetry with a status message before each retry.
  async function loadConfig(configUrl, onRetry) {
    for (let attempt = 1; ; attempt++) {
      try {
        return validateConfig(await fetchConfigOnce(configUrl));
      } catch (error) {
        if (error instanceof ConfigError || attempt === CONFIG_ATTEMPTS) {
          throw error;
        }
        onRetry('config not loaded (attempt ' + attempt + ' of ' + CONFIG_ATTEMPTS + '): ' + describeError(error));
      }
      await delay(CONFIG_RETRY_DELAY_MS);
    }
  }

  // validateConfig checks the body of /config. channelPattern and channels
  // are present only when the publisher routes trades to many channels.
  function validateConfig(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new ConfigError('invalid /config: expected a JSON object');
    }
    if (typeof body.channel !== 'string') {
      throw new ConfigError('invalid /config: channel must be a string');
    }
    const pattern = body.channelPattern === undefined ? '' : body.channelPattern;
    if (typeof pattern !== 'string') {
      throw new ConfigError('invalid /config: channelPattern must be a string');
    }
    const channels = body.channels === undefined ? [] : body.channels;
    if (!Array.isArray(channels)) {
      throw new ConfigError('invalid /config: channels must be an array of channel names');
    }
    for (const name of channels) {
      if (typeof name !== 'string' || name === '') {
        throw new ConfigError('invalid /config: channels contains ' + JSON.stringify(name) + ', expected a non-empty string');
      }
    }
    const endpoint = body.ablyEndpoint === undefined ? '' : body.ablyEndpoint;
    if (typeof endpoint !== 'string') {
      throw new ConfigError('invalid /config: ablyEndpoint must be a string');
    }
    return { channel: body.channel, channelPattern: pattern, channels: channels, ablyEndpoint: endpoint };
  }

  // channelsToFollow returns the names of the channels the page subscribes
  // to, in order and without repeats: the channel query parameter, else
  // the channel of /config, else its channels list. It throws a
  // ConfigError that names what is missing when there is none.
  function channelsToFollow(config, channelOverride) {
    if (channelOverride !== '') {
      return [channelOverride];
    }
    if (config.channel !== '') {
      return [config.channel];
    }
    if (config.channels.length > 0) {
      return Array.from(new Set(config.channels));
    }
    let missing = 'no channel: /config returned an empty channel and no channels list';
    if (config.channelPattern !== '') {
      missing = 'no channel: /config returned an empty channel and an empty channels list for the pattern ' +
        JSON.stringify(config.channelPattern) +
        '. The publisher lists the channels only when CHANNEL_NAME names {symbol} and no other field, and SYMBOLS is set';
    }
    throw new ConfigError(missing + '. Add ?channel=NAME to follow one channel.');
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement('script');
      script.src = src;
      script.async = true;
      script.addEventListener('load', function () {
        resolve();
      });
      script.addEventListener('error', function () {
        script.remove();
        reject(new Error('failed to load ' + src));
      });
      document.head.appendChild(script);
    });
  }

  function ablyLoaded() {
    return typeof window.Ably === 'object' && typeof window.Ably.Realtime === 'function';
  }

  // loadAbly loads the local copy of ably-js, or Ably's CDN build when the
  // local copy is missing (as when the page is opened from disk), and
  // returns which one it used.
  async function loadAbly() {
    try {
      await loadScript(LOCAL_ABLY_URL);
      if (ablyLoaded()) {
        return 'local copy';
      }
    } catch (error) {
      // Fall through to the CDN.
    }
    await loadScript(CDN_ABLY_URL);
    if (!ablyLoaded()) {
      throw new Error(CDN_ABLY_URL + ' loaded but did not define Ably.Realtime');
    }
    return 'CDN';
  }

  // isFqdnIpOrLocalhost repeats the test that ably-js 2.28 applies to the
  // endpoint option in src/common/lib/util/defaults.ts. ably-js takes any
  // other value as a routing policy name and expands it to
  // <name>.realtime.ably.net.
  function isFqdnIpOrLocalhost(host) {
    return host.includes('.') || host.includes('::') || host === 'localhost';
  }

  // realtimeOptions returns ably-js client options. An empty ablyEndpoint
  // means Ably itself with the library defaults. Otherwise ablyEndpoint is
  // http(s)://host[:port] of the local emulator, reached with only that host
  // (no fallback hosts), WebSocket only and no connectivity checks against
  // Ably's hosts.
  function realtimeOptions(tokenUrl, ablyEndpoint) {
    const options = {
      authUrl: tokenUrl,
      authMethod: 'GET',
      logLevel: 1,
    };
    if (ablyEndpoint === '') {
      return options;
    }

    let url;
    try {
      url = new URL(ablyEndpoint);
    } catch (error) {
      throw new ConfigError('invalid /config: ablyEndpoint ' + JSON.stringify(ablyEndpoint) + ' is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError('invalid /config: ablyEndpoint ' + JSON.stringify(ablyEndpoint) + ' must be http://host:port or https://host:port');
    }
    const tls = url.protocol === 'https:';
    let port = Number(url.port);
    if (url.port === '') {
      port = tls ? 443 : 80;
    }

    if (isFqdnIpOrLocalhost(url.hostname)) {
      options.endpoint = url.hostname;
    } else {
      // The endpoint option would expand a single-label host, such as a
      // container name, so pass it with the deprecated restHost and
      // realtimeHost options, which take it literally.
      options.restHost = url.hostname;
      options.realtimeHost = url.hostname;
    }
    options.tls = tls;
    if (tls) {
      options.tlsPort = port;
    } else {
      options.port = port;
    }
    options.fallbackHosts = [];
    options.transports = ['web_socket'];
    // ably-js checks connectivity when a WebSocket is slow to open. By
    // default it contacts Ably's hosts, but with the emulator every request
    // must stay local.
    options.disableConnectivityCheck = true;
    options.wsConnectivityCheckUrl = (tls ? 'wss://' : 'ws://') + url.host + '/';
    return options;
  }

  return {
    ConfigError: ConfigError,
    describeError: describeError,
    readSettings: readSettings,
    loadConfig: loadConfig,
    channelsToFollow: channelsToFollow,
    loadAbly: loadAbly,
    ablyLoaded: ablyLoaded,
    realtimeOptions: realtimeOptions,
  };
})();
