'use strict';
// ali-ons (a JavaScript RocketMQ remoting client from npm) against mqnamesrv + mqbroker.
const test = require('node:test');
const assert = require('node:assert');
const { Message } = require('ali-ons');
const { Cluster } = require('../lib/servers');
const { Clients, collect } = require('../lib/clients');

const TIMEOUT = 60000;
let cluster;
let clients;

test.before(async () => {
  cluster = await new Cluster().start();
  clients = new Clients(cluster);
});
test.after(async () => {
  if (cluster) await cluster.stop();
  // ali-ons keeps a process-wide client with timers alive; leave once the results are out.
  setTimeout(() => process.exit(), 200);
});

test('sync send with tags and keys is acknowledged with an offset msgId and a queue offset', { timeout: TIMEOUT }, async () => {
  const producer = clients.producer('PG_node_send');
  await clients.createTopic(producer, 'NodeSendTopic');
  const msg = new Message('NodeSendTopic', 'TagA', 'hello from ali-ons');
  msg.keys = ['order-1'];
  const r = await producer.send(msg);
  assert.strictEqual(r.sendStatus, 'SEND_OK');
  assert.match(r.msgId, /^[0-9A-F]{32}$/, 'offset msgId: store IP + port + commitlog offset');
  assert.strictEqual(r.msgId.slice(0, 8), '7F000001', 'store host 127.0.0.1 in the msgId');
  assert.ok(r.queueOffset >= 0);
  await producer.close();
});

test('a consumer group with a tag filter receives every matching message, bodies intact', { timeout: TIMEOUT }, async () => {
  const producer = clients.producer('PG_node_filter');
  await clients.createTopic(producer, 'NodeFilterTopic');
  const sent = [];
  for (let i = 0; i < 20; i++) {
    const tag = i % 2 ? 'TagB' : 'TagA';
    const body = `msg-${i}-${tag}-` + 'x'.repeat(i * 10);
    const r = await producer.send(new Message('NodeFilterTopic', tag, body));
    assert.strictEqual(r.sendStatus, 'SEND_OK');
    if (tag === 'TagA') sent.push(body);
  }
  const consumer = clients.consumer('CG_node_filter');
  const got = await collect(consumer, 'NodeFilterTopic', 'TagA', sent.length, 40000);
  assert.deepStrictEqual(got.map(m => m.body.toString()).sort(), sent.slice().sort());
  for (const m of got) assert.strictEqual(m.tags, 'TagA');
  await consumer.close();
  await producer.close();
});

test('a message sent while the consumer is idle arrives through long polling', { timeout: TIMEOUT }, async () => {
  const producer = clients.producer('PG_node_lp');
  await clients.createTopic(producer, 'NodeLongPollTopic', 1);
  const consumer = clients.consumer('CG_node_lp');
  const arrived = collect(consumer, 'NodeLongPollTopic', '*', 1, 40000);
  await consumer.ready();
  await new Promise(r => setTimeout(r, 2000)); // let its pull be held by the broker
  const sentAt = Date.now();
  await producer.send(new Message('NodeLongPollTopic', 'T', 'late message'));
  const [m] = await arrived;
  assert.strictEqual(m.body.toString(), 'late message');
  assert.ok(Date.now() - sentAt < 5000, 'delivered well before the 15 s poll timeout');
  await consumer.close();
  await producer.close();
});

test('restarting the broker loses no acknowledged message', { timeout: TIMEOUT }, async () => {
  const producer = clients.producer('PG_node_restart');
  await clients.createTopic(producer, 'NodeRestartTopic', 2);
  const bodies = [];
  for (let i = 0; i < 10; i++) {
    bodies.push(`persist-${i}`);
    assert.strictEqual((await producer.send(new Message('NodeRestartTopic', 'T', bodies[i]))).sendStatus, 'SEND_OK');
  }
  await producer.close();
  await cluster.stopBroker('SIGTERM');
  await cluster.startBroker();
  const consumer = clients.consumer('CG_node_restart');
  const got = await collect(consumer, 'NodeRestartTopic', '*', bodies.length, 40000);
  assert.deepStrictEqual(got.map(m => m.body.toString()).sort(), bodies.slice().sort());
  await consumer.close();
});
