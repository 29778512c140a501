// The RocketMQ 5.x gRPC Node.js SDK (rocketmq-client-nodejs) against the broker named by
// GRPC_ENDPOINT; run-suite.sh starts it with the topics and groups of
// compat/grpc-common/servers.sh. Every scenario has its own topic or group; every wait has a
// deadline. Node's own test runner (node --test), one scenario after another.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Producer, SimpleConsumer, PushConsumer, ConsumeResult, FilterExpression } = require('rocketmq-client-nodejs');
const { TransactionResolution } = require('rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb');

const endpoints = process.env.GRPC_ENDPOINT;
if (!endpoints) throw new Error('GRPC_ENDPOINT is not set (run run-suite.sh)');
const common = { endpoints, namespace: '', requestTimeout: 10000 };
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function waitFor(what, ms, cond) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

// Started clients, shut down at the end of each test.
let clients = [];
test.afterEach(async () => {
  for (const c of clients.reverse()) await c.shutdown();
  clients = [];
});
async function started(client) {
  await client.startup();
  clients.push(client);
  return client;
}

const producer = (topic, checker) => started(new Producer({ ...common, topics: [ topic ], checker }));
// 5 s: Apache's proxy raises a shorter long poll to 5 s and refuses a deadline that cannot
// hold it (the SDK's deadline is the await duration plus the request timeout).
const simpleConsumer = (group, topic, tags = '*') => started(new SimpleConsumer({
  ...common, consumerGroup: group, awaitDuration: 5000,
  subscriptions: new Map([[ topic, new FilterExpression(tags) ]]),
}));
const pushConsumer = (group, topic, consume) => started(new PushConsumer({
  ...common, consumerGroup: group, longPollingTimeout: 5000,
  subscriptions: new Map([[ topic, FilterExpression.SUB_ALL ]]),
  messageListener: { consume: async mv => { consume(mv); return ConsumeResult.SUCCESS; } },
}));
const text = mv => mv.body.toString();

// Receives (acking when ack) until done(all so far) or `ms` pass.
async function receiveUntil(c, invisibleMs, ms, ack, done) {
  const got = [];
  const deadline = Date.now() + ms;
  while (!done(got) && Date.now() < deadline) {
    for (const mv of await c.receive(16, invisibleMs)) {
      got.push(mv);
      if (ack) await c.ack(mv);
    }
  }
  return got;
}
const never = () => false;

// Apache's proxy may not route a topic in the first seconds after it listens: the first
// producer is retried for up to 30 s before any scenario runs.
test.before(async () => {
  for (const deadline = Date.now() + 30000; ;) {
    const p = new Producer({ ...common, topics: [ 'TopicNormal' ] });
    try {
      await p.startup();
      await p.shutdown();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(1000);
    }
  }
});

test('normal send with tag and keys', async () => {
  const p = await producer('TopicNormal');
  const receipt = await p.send({ topic: 'TopicNormal', tag: 'TagA', keys: [ 'key-1', 'key-2' ],
    properties: new Map([[ 'color', 'red' ]]), body: Buffer.from('normal') });
  await p.send({ topic: 'TopicNormal', tag: 'TagB', body: Buffer.from('other') });
  const c = await simpleConsumer('GroupNormal', 'TopicNormal', 'TagA');
  const got = await receiveUntil(c, 20000, 30000, true, l => l.length > 0);
  assert.equal(got.length, 1);
  const v = got[0];
  assert.equal(v.messageId, receipt.messageId);
  assert.equal(text(v), 'normal');
  assert.equal(v.tag, 'TagA');
  assert.deepEqual([ ...v.keys ].sort(), [ 'key-1', 'key-2' ]);
  assert.equal(v.properties.get('color'), 'red');
  assert.equal(v.topic, 'TopicNormal');
  assert.equal(v.deliveryAttempt, 1);
  assert.deepEqual(await receiveUntil(c, 20000, 3000, true, never), [], 'the TagB message was filtered out');
});

test('FIFO send and consumption in group order', async () => {
  const groups = 3, perGroup = 6;
  const p = await producer('TopicFifo');
  for (let i = 0; i < perGroup; i++) {
    for (let g = 0; g < groups; g++) {
      await p.send({ topic: 'TopicFifo', messageGroup: `mg${g}`, body: Buffer.from(`mg${g}:${i}`) });
    }
  }
  const seen = {};
  let total = 0;
  await pushConsumer('GroupFifo', 'TopicFifo', mv => {
    const [ g, i ] = text(mv).split(':');
    (seen[g] ??= []).push(Number(i));
    if (mv.messageGroup !== g) (seen.wrongGroup ??= []).push(text(mv));
    total++;
  });
  await waitFor('18 FIFO messages', 60000, () => total >= groups * perGroup);
  await sleep(1000);
  for (let g = 0; g < groups; g++) assert.deepEqual(seen[`mg${g}`], [ 0, 1, 2, 3, 4, 5 ], `order of mg${g}`);
  assert.equal(seen.wrongGroup, undefined);
});

test('delay message arrives on time', async () => {
  const p = await producer('TopicDelay');
  const due = Date.now() + 5000;
  await p.send({ topic: 'TopicDelay', deliveryTimestamp: new Date(due), body: Buffer.from('delayed') });
  const c = await simpleConsumer('GroupDelay', 'TopicDelay');
  const got = await receiveUntil(c, 20000, 30000, true, l => l.length > 0);
  const arrived = Date.now();
  assert.equal(got.length, 1);
  assert.equal(got[0].deliveryTimestamp?.getTime(), due, 'delivery timestamp');
  assert.ok(arrived >= due, `arrived ${due - arrived} ms before it was due`);
  assert.ok(arrived <= due + 10000, `arrived ${arrived - due} ms after it was due`);
});

test('transaction commit, rollback and check-back', async () => {
  const checked = new Set();
  const p = await producer('TopicTx', {
    async check(mv) {
      checked.add(text(mv));
      return text(mv) === 'check-commit' ? TransactionResolution.COMMIT : TransactionResolution.ROLLBACK;
    },
  });
  const c = await simpleConsumer('GroupTx', 'TopicTx');
  for (const [ body, end ] of [[ 'commit', 'commit' ], [ 'rollback', 'rollback' ], [ 'check-commit' ], [ 'check-rollback' ]]) {
    const tx = p.beginTransaction();
    await p.send({ topic: 'TopicTx', body: Buffer.from(body) }, tx);
    if (end) await tx[end]();
  }
  // The last two were neither committed nor rolled back: the broker asks the producer over
  // Telemetry.
  const got = await receiveUntil(c, 20000, 60000, true, l => l.length >= 2);
  got.push(...await receiveUntil(c, 20000, 4000, true, never));
  // Apache may check a transaction back again before the first answer has ended it, and then
  // commits it twice: a duplicate is at-least-once delivery; a missing or rolled-back one fails.
  assert.deepEqual([ ...new Set(got.map(text)) ].sort(), [ 'check-commit', 'commit' ]);
  await waitFor('the check-back of check-rollback', 30000, () => checked.has('check-rollback'));
  assert.ok(checked.has('check-commit'), `checked back: ${[ ...checked ]}`);
});

test('SimpleConsumer ack and invisible duration', async () => {
  const p = await producer('TopicSimple');
  for (const b of [ 'acked', 'changed', 'left' ]) await p.send({ topic: 'TopicSimple', body: Buffer.from(b) });
  const c = await simpleConsumer('GroupSimple', 'TopicSimple');
  const first = {};
  for (const mv of await receiveUntil(c, 10000, 30000, false, l => l.length >= 3)) first[text(mv)] = mv;
  assert.deepEqual(Object.keys(first).sort(), [ 'acked', 'changed', 'left' ]);
  const t0 = Date.now();
  await c.ack(first.acked);
  await c.changeInvisibleDuration(first.changed, 2000);
  // "changed" comes back after ~2 s, "left" after its 10 s; "acked" never.
  const back = {};
  for (const deadline = Date.now() + 40000; Object.keys(back).length < 2 && Date.now() < deadline;) {
    for (const mv of await c.receive(16, 20000)) {
      back[text(mv)] ??= Date.now() - t0;
      assert.equal(mv.deliveryAttempt, 2, `delivery attempt of ${text(mv)}`);
      await c.ack(mv);
    }
  }
  assert.deepEqual(Object.keys(back).sort(), [ 'changed', 'left' ]);
  assert.ok(back.changed < back.left, `redelivery times ${JSON.stringify(back)}`);
  assert.ok(back.left >= 8000, `left came back after ${back.left} ms`);
  assert.deepEqual(await receiveUntil(c, 10000, 3000, true, never), []);
});

test('two PushConsumers consume every message once', async () => {
  const n = 40, deliveries = new Map(), counts = [ 0, 0 ];
  for (const i of [ 0, 1 ]) {
    await pushConsumer('GroupPush', 'TopicPush', mv => {
      deliveries.set(text(mv), (deliveries.get(text(mv)) ?? 0) + 1);
      counts[i]++;
    });
  }
  const p = await producer('TopicPush');
  for (let i = 0; i < n; i++) await p.send({ topic: 'TopicPush', body: Buffer.from(`push-${i}`) });
  await waitFor('40 pushed messages', 60000, () => deliveries.size >= n);
  await sleep(2000);
  for (let i = 0; i < n; i++) assert.equal(deliveries.get(`push-${i}`), 1, `deliveries of push-${i}`);
  console.log(`push consumers: ${counts[0]} + ${counts[1]} messages`);
});
