// mqttjs_roundtrip.js - MQTT.js (Debian's node-mqtt) over wss:// or ws://:
// connect, subscribe, publish to itself, receive; prints one JSON line
// {"ok":bool,"connack":N,"got":"...","error":"..."} and exits. Bounded:
// gives up after 10 s. Used by tests/integration/test_websocket.py.
// argv: URL CLIENT_ID VERSION(4|5) CA [PASSWORD] [CERT KEY]
'use strict';
const fs = require('fs');
const mqtt = require('mqtt');

const [url, clientId, version, ca, password, cert, key] = process.argv.slice(2);
const opts = {
  clientId,
  protocolVersion: Number(version),
  reconnectPeriod: 0,
  connectTimeout: 8000,
  rejectUnauthorized: true,
};
if (ca && ca !== '-') opts.ca = fs.readFileSync(ca);
if (password && password !== '-') {
  opts.username = 'device';
  opts.password = password;
}
if (cert && key) {
  opts.cert = fs.readFileSync(cert);
  opts.key = fs.readFileSync(key);
}
const topic = 'moat/mqttjs/' + clientId;
const out = {ok: false, connack: null, got: null, error: null};
const done = () => {
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
};
setTimeout(() => { out.error = out.error || 'timeout'; done(); }, 10000);
const c = mqtt.connect(url, opts);
c.on('connect', (ack) => {
  out.connack = ack.returnCode !== undefined ? ack.returnCode : ack.reasonCode;
  c.subscribe(topic, {qos: 1}, (err) => {
    if (err) { out.error = String(err); return done(); }
    c.publish(topic, 'hello from ' + clientId, {qos: 1});
  });
});
c.on('message', (t, payload) => {
  out.ok = true;
  out.got = payload.toString();
  c.end(false, {}, done);
});
c.on('error', (err) => {
  out.error = String(err && (err.code || err.message) || err);
  if (err && err.code !== undefined && typeof err.code === 'number') out.connack = err.code;
  done();
});
c.on('close', () => { if (!out.ok) { out.error = out.error || 'closed'; done(); } });
