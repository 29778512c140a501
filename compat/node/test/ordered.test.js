'use strict';
// Ordered messages with ali-ons: one sharding key puts every message on one queue,
// and a single consumer gets them in the order they were sent.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const { Message } = require('ali-ons');
const { Cluster } = require('../lib/servers');
const { Clients, collect } = require('../lib/clients');

const TIMEOUT = 60000;
const QUEUES = 4;
let cluster;
let clients;

test.before(async () => {
  cluster = await new Cluster().start();
  clients = new Clients(cluster);
});
test.after(async () => {
  if (cluster) await cluster.stop();
  setTimeout(() => process.exit(), 200);
});

// ali-ons maps a sharding key to md5(key)[0..4] % queues, but treats queue 0 as "no
// choice" (`queueIds[i] || ''`) and then round-robins; pick a key that lands elsewhere.
function shardingKeyOffQueueZero() {
  for (let i = 0; ; i++) {
    const key = `order-${i}`;
    if (crypto.createHash('md5').update(key).digest().readUInt32BE() % QUEUES !== 0) return key;
  }
}

test('messages with one sharding key go to one queue and are consumed in send order', { timeout: TIMEOUT }, async () => {
  const topic = 'NodeOrderedTopic';
  const producer = clients.producer('PG_node_order');
  await clients.createTopic(producer, topic, QUEUES);
  const key = shardingKeyOffQueueZero();
  const sent = [];
  const queues = new Set();
  for (let i = 0; i < 50; i++) {
    const msg = new Message(topic, 'T', `step-${i}`);
    msg.shardingKey = key;
    const r = await producer.send(msg);
    assert.strictEqual(r.sendStatus, 'SEND_OK');
    queues.add(r.messageQueue.queueId);
    sent.push({ body: `step-${i}`, queueOffset: r.queueOffset });
  }
  assert.strictEqual(queues.size, 1, `one queue for key ${key}, got queues ${[...queues]}`);
  const offsets = sent.map(s => s.queueOffset);
  assert.deepStrictEqual(offsets, offsets.map((_, i) => offsets[0] + i), 'consecutive queue offsets');

  const consumer = clients.consumer('CG_node_order');
  const got = await collect(consumer, topic, '*', sent.length, 40000);
  assert.deepStrictEqual(got.map(m => m.body.toString()), sent.map(s => s.body), 'consumption order = send order');
  assert.deepStrictEqual(got.map(m => Number(m.queueOffset)), offsets, 'delivered with the offsets the sends returned');
  await consumer.close();
  await producer.close();
});
