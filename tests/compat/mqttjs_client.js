'use strict';
// Compatibility-matrix client driver for MQTT.js (npm `mqtt`).
// Same command line and output as the other drivers (see run_matrix.py, "Client drivers"):
//   node mqttjs_client.js MODE --port P --ca FILE [--cert F --key F] --id ID --user U
//                         [--password PW] --version 3|4|5 --topic BASE [--max-qos N]
const fs = require('fs');
const mqtt = require('mqtt');

const TIMEOUT_MS = 5000;

function parseArgs(argv) {
  const args = { mode: argv[0], version: 4 };
  for (let i = 1; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  args.port = Number(args.port);
  args.version = Number(args.version);
  args.maxQos = args['max-qos'] === undefined ? 2 : Number(args['max-qos']);
  return args;
}

function report(feature, ok, detail) {
  console.log(`RESULT ${feature} ${ok ? 'PASS' : 'FAIL'} ${detail || ''}`.trimEnd());
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves with the connected client, or rejects with the library's CONNACK error.
function connect(args, will) {
  const options = {
    clientId: args.id,
    username: args.user,
    protocolVersion: args.version,
    ca: fs.readFileSync(args.ca),
    rejectUnauthorized: true,
    reconnectPeriod: 0,
    connectTimeout: TIMEOUT_MS,
    clean: true,
  };
  if (args.password !== undefined) options.password = args.password;
  if (args.cert) {
    options.cert = fs.readFileSync(args.cert);
    options.key = fs.readFileSync(args.key);
  }
  if (will) options.will = { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: false };
  const client = mqtt.connect(`mqtts://127.0.0.1:${args.port}`, options);
  return withTimeout(new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => { client.end(true); reject(err); });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  }), 'CONNACK');
}

function nextMessage(client, topic) {
  return withTimeout(new Promise((resolve) => {
    const onMessage = (t, payload, packet) => {
      if (t !== topic) return;
      client.removeListener('message', onMessage);
      resolve(packet);
    };
    client.on('message', onMessage);
  }), `message on ${topic}`);
}

async function scenario(args) {
  const base = args.topic;
  let client;
  try {
    client = await connect(args, { topic: `${base}/clean-will`, payload: 'must-not-arrive' });
    report('connect', true, 'connack=0');
  } catch (err) {
    report('connect', false, `error code=${err.code} ${err.message}`);
    return;
  }
  try {
    const granted = await withTimeout(client.subscribeAsync(`${base}/t/#`, { qos: 2 }), 'SUBACK');
    const codes = granted.map((g) => g.qos);
    report('subscribe', codes.every((q) => q <= 2), `granted=${JSON.stringify(codes)}`);
  } catch (err) {
    report('subscribe', false, err.message);
  }
  for (const qos of [0, 1, 2].filter((q) => q <= args.maxQos)) {
    const topic = `${base}/t/q${qos}`;
    const received = nextMessage(client, topic);
    received.catch(() => {});
    let acked = false;
    try {
      await withTimeout(client.publishAsync(topic, `payload-${qos}`, { qos }), 'publish');
      acked = true;
    } catch (err) { /* reported below */ }
    let packet = null;
    try { packet = await received; } catch (err) { /* reported below */ }
    const got = packet !== null && packet.payload.toString() === `payload-${qos}`;
    report(`qos${qos}`, acked && got, `acked=${acked} received=${got}` + (packet ? ` rx_qos=${packet.qos}` : ''));
  }
  try {
    await withTimeout(client.publishAsync(`${base}/r`, 'kept', { qos: 1, retain: true }), 'retained publish');
    const received = nextMessage(client, `${base}/r`);
    received.catch(() => {});
    await withTimeout(client.subscribeAsync(`${base}/r`, { qos: 1 }), 'SUBACK');
    const packet = await received;
    report('retained', packet.retain === true && packet.payload.toString() === 'kept', `retain_flag=${packet.retain}`);
  } catch (err) {
    report('retained', false, err.message);
  }
  try {
    await withTimeout(client.endAsync(false), 'DISCONNECT');
    report('disconnect', true, 'rc=0');
  } catch (err) {
    report('disconnect', false, err.message);
  }
}

async function will(args) {
  try {
    await connect(args, { topic: `${args.topic}/will`, payload: `will-${args.id}` });
    console.log('CONNECTED');
  } catch (err) {
    console.log(`REFUSED ${err.code} ${err.message}`);
  }
  setTimeout(() => {}, 60000);
}

async function refuse(args) {
  try {
    const client = await connect(args, null);
    console.log('CONNECTED');
    client.end(true);
  } catch (err) {
    console.log(err.code === undefined ? `NO-CONNACK ${err.message}` : `REFUSED ${err.code} ${err.message}`);
  }
}

const args = parseArgs(process.argv.slice(2));
({ scenario, will, refuse })[args.mode](args).then(() => {
  if (args.mode !== 'will') process.exit(0);
});
