'use strict';
// ali-ons (a JavaScript RocketMQ remoting client from npm): delay levels and consumer retries
// through the broker's scheduler.
const test = require('node:test');
const assert = require('node:assert');
const httpclient = require('urllib');
const { Producer, Consumer, Message } = require('ali-ons');
const { Cluster } = require('../lib/servers');

const TIMEOUT = 60000;
let cluster;
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

test.before(async () => { cluster = await new Cluster().start(); });
test.after(async () => {
  if (cluster) await cluster.stop();
  // ali-ons keeps a process-wide client with timers alive; leave once the results are out.
  setTimeout(() => process.exit(), 200);
});

async function producerWithTopic(group, ...topics) {
  const producer = new Producer({ httpclient, nameSrv: cluster.nameSrv, producerGroup: group, logger: quiet });
  await producer.ready();
  for (const topic of topics) {
    await producer._mqClient.createTopic(cluster.brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: 1, writeQueueNums: 1, perm: 6,
      topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    }, 3000);
  }
  await new Promise(r => setTimeout(r, 300));
  return producer;
}

function consumerFor(group) {
  const consumer = new Consumer({
    httpclient, nameSrv: cluster.nameSrv, consumerGroup: group, logger: quiet,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
  });
  consumer.on('error', () => {}); // the handler's deliberate failure is reported here
  return consumer;
}

test('a delay-level-2 message arrives 5 s after it was sent', { timeout: TIMEOUT }, async () => {
  const producer = await producerWithTopic('PG_node_delay', 'NodeDelayTopic');
  const consumer = consumerFor('CG_node_delay');
  let sentAt;
  const arrived = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('delayed message did not arrive')), 30000);
    consumer.subscribe('NodeDelayTopic', '*', async msg => { clearTimeout(t); resolve([msg, Date.now()]); });
  });
  await consumer.ready();
  await new Promise(r => setTimeout(r, 2000)); // its pull is held by the broker now
  const msg = new Message('NodeDelayTopic', 'TagD', 'five seconds later');
  msg.delayTimeLevel = 2;
  sentAt = Date.now();
  assert.strictEqual((await producer.send(msg)).sendStatus, 'SEND_OK');
  const [got, at] = await arrived;
  assert.strictEqual(got.body.toString(), 'five seconds later');
  const elapsed = at - sentAt;
  // 5 s level + the client's own hand-off; the broker side is asserted to 100 ms in tests/broker/test_schedule.
  assert.ok(elapsed >= 5000 && elapsed < 5500, `arrived after ${elapsed} ms`);
  await consumer.close();
  await producer.close();
});

test('a message whose handler throws once is redelivered through %RETRY%', { timeout: TIMEOUT }, async () => {
  // The retry topic exists before the consumer starts: ali-ons looks routes up again only every
  // 30 s, and the broker would otherwise create it at the consumer's first heartbeat.
  const producer = await producerWithTopic('PG_node_retry', 'NodeRetryTopic', '%RETRY%CG_node_retry');
  const consumer = consumerFor('CG_node_retry');
  const seen = [];
  const done = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`deliveries: ${JSON.stringify(seen)}`)), 40000);
    consumer.subscribe('NodeRetryTopic', '*', async msg => {
      seen.push({ at: Date.now(), reconsumeTimes: msg.reconsumeTimes, body: msg.body.toString() });
      if (seen.length === 1) throw new Error('fail the first time');
      clearTimeout(t);
      resolve();
    });
  });
  await consumer.ready();
  assert.strictEqual((await producer.send(new Message('NodeRetryTopic', 'TagR', 'retry me'))).sendStatus, 'SEND_OK');
  await done;
  assert.strictEqual(seen.length, 2);
  assert.strictEqual(seen[1].body, 'retry me');
  assert.strictEqual(seen[1].reconsumeTimes, 1);
  // First retry: level 3 + reconsumeTimes 0 = level 3 = 10 s.
  const gap = seen[1].at - seen[0].at;
  assert.ok(gap >= 10000 && gap < 12000, `redelivered after ${gap} ms`);
  await consumer.close();
  await producer.close();
});
