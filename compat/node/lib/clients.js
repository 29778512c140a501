'use strict';
// ali-ons producers and consumers bound to a started Cluster, and the waits the
// cases share. Every wait has a deadline and says what it was waiting for.
const httpclient = require('urllib');
const { Producer, Consumer } = require('ali-ons');

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }

// Polls cond() until it returns a truthy value; rejects with describe() after ms.
async function waitFor(cond, ms, describe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${describe()}`);
    await sleep(100);
  }
}

class Clients {
  constructor(cluster) { this.cluster = cluster; }

  producer(group, extra = {}) {
    return new Producer({ httpclient, nameSrv: this.cluster.nameSrv, producerGroup: group, logger: quiet, ...extra });
  }

  // Two consumers of one group in one process need distinct instanceName values:
  // ali-ons shares one client (and one clientId) per instance name.
  consumer(group, extra = {}) {
    return new Consumer({
      httpclient, nameSrv: this.cluster.nameSrv, consumerGroup: group, logger: quiet,
      consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET', ...extra,
    });
  }

  async createTopic(producer, topic, queues = 4) {
    await producer.ready();
    await producer._mqClient.createTopic(this.cluster.brokerAddr, 'TBW102', {
      topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6,
      topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false,
    }, 3000);
    // The broker re-registers with the name server after a topic change.
    await sleep(300);
  }
}

// Queue ids of `topic` a push consumer currently pulls from (after its rebalance).
function ownedQueues(consumer, topic) {
  const ids = [];
  for (const entry of consumer.processQueueTable.values()) {
    if (entry && entry.messageQueue.topic === topic) ids.push(entry.messageQueue.queueId);
  }
  return ids.sort((a, b) => a - b);
}

// Subscribes and resolves with the first `want` messages, or rejects after ms
// listing what did arrive.
function collect(consumer, topic, expr, want, ms, onMsg) {
  const got = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`expected ${want} messages on ${topic}, got ${got.length}: ` +
      JSON.stringify(got.map(m => m.body.length > 64 ? `<${m.body.length} bytes>` : m.body.toString())))), ms);
    consumer.subscribe(topic, expr, async msg => {
      if (onMsg) await onMsg(msg);
      got.push(msg);
      if (got.length === want) { clearTimeout(t); resolve(got); }
    });
  });
}

module.exports = { Clients, collect, ownedQueues, waitFor, sleep };
