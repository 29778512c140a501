"""The RocketMQ 5.x gRPC Python SDK (rocketmq-python-client) against the broker named by
GRPC_ENDPOINT; run-suite.sh starts it with the topics and groups of
compat/grpc-common/servers.sh. Every scenario has its own topic or group; every wait has a
deadline. Run by run-suite.sh, which prints "compat/grpc-python: N passed, N failed"."""

import os
import sys
import threading
import time
import unittest

from rocketmq import (ClientConfiguration, ConsumeResult, Credentials, FilterExpression,
                      Message, MessageListener, Producer, PushConsumer, SimpleConsumer,
                      TransactionChecker, TransactionResolution)

ENDPOINT = os.environ.get("GRPC_ENDPOINT", "")


def config():
    return ClientConfiguration(ENDPOINT, Credentials(), request_timeout=10)


def message(topic, body, tag=None, keys=(), group=None, due=None):
    m = Message()
    m.topic = topic
    m.body = body.encode()
    if tag:
        m.tag = tag
    for key in keys:  # the setter adds one key per assignment
        m.keys = key
    if group:
        m.message_group = group
    if due:
        m.delivery_timestamp = due
    return m


def text(m):
    return m.body.decode()


def producer(*topics, checker=None):
    p = Producer(config(), topics, checker) if checker else Producer(config(), topics)
    p.startup()
    return p


def simple_consumer(group, topic, tags="*"):
    # 5 s: Apache's proxy raises a shorter long poll to 5 s and refuses a deadline that
    # cannot hold it; the SDK's deadline is the await duration plus the request timeout.
    c = SimpleConsumer(config(), group, {topic: FilterExpression(tags)}, await_duration=5)
    c.startup()
    return c


def receive_until(c, invisible, within, ack, done):
    """Receives (acking when ack) until done(all so far) or `within` seconds pass."""
    got = []
    deadline = time.time() + within
    while not done(got) and time.time() < deadline:
        for m in c.receive(16, invisible) or []:
            got.append(m)
            if ack:
                c.ack(m)
    return got


def wait_for(what, within, cond):
    deadline = time.time() + within
    while not cond():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        time.sleep(0.1)


class Listener(MessageListener):
    def __init__(self, on_message):
        self.on_message = on_message

    def consume(self, m):
        self.on_message(m)
        return ConsumeResult.SUCCESS


class Checker(TransactionChecker):
    def __init__(self):
        self.checked = set()

    def check(self, m):
        self.checked.add(text(m))
        return TransactionResolution.COMMIT if text(m) == "check-commit" else TransactionResolution.ROLLBACK


class GrpcSdkTest(unittest.TestCase):
    def setUp(self):
        self.closers = []

    def tearDown(self):
        for c in reversed(self.closers):
            c.shutdown()

    def started(self, client):
        self.closers.append(client)
        return client

    def test_normal_send_with_tag_and_keys(self):
        p = self.started(producer("TopicNormal"))
        m = message("TopicNormal", "normal", tag="TagA", keys=("key-1", "key-2"))
        m.add_property("color", "red")
        receipt = p.send(m)
        p.send(message("TopicNormal", "other", tag="TagB"))
        c = self.started(simple_consumer("GroupNormal", "TopicNormal", "TagA"))
        got = receive_until(c, 20, 30, True, lambda l: l)
        self.assertEqual(1, len(got))
        v = got[0]
        self.assertEqual(receipt.message_id, v.message_id)
        self.assertEqual("normal", text(v))
        self.assertEqual("TagA", v.tag)
        self.assertEqual({"key-1", "key-2"}, set(v.keys))
        self.assertEqual("red", v.properties.get("color"))
        self.assertEqual("TopicNormal", v.topic)
        self.assertEqual(1, v.delivery_attempt)
        self.assertEqual([], receive_until(c, 20, 3, True, lambda l: False), "TagB filtered out")

    def test_fifo_send_and_consume_in_group_order(self):
        groups, per_group = 3, 6
        p = self.started(producer("TopicFifo"))
        for i in range(per_group):
            for g in range(groups):
                p.send(message("TopicFifo", f"mg{g}:{i}", group=f"mg{g}"))
        seen, lock = {}, threading.Lock()

        def on_message(m):
            g, i = text(m).split(":")
            with lock:
                seen.setdefault(g, []).append(int(i))
                if m.message_group != g:
                    seen.setdefault("wrong-group", []).append(text(m))

        self.started(PushConsumer(config(), "GroupFifo", Listener(on_message),
                                  {"TopicFifo": FilterExpression()})).startup()
        wait_for("18 FIFO messages", 60, lambda: sum(len(v) for v in seen.values()) >= groups * per_group)
        time.sleep(1)
        for g in range(groups):
            self.assertEqual(list(range(per_group)), seen.get(f"mg{g}"), f"order of mg{g}")
        self.assertNotIn("wrong-group", seen)

    def test_delay_message_arrives_on_time(self):
        p = self.started(producer("TopicDelay"))
        # Sent in whole seconds (the SDK puts the value into the Timestamp's seconds), read
        # back in milliseconds.
        due_s = int(time.time()) + 5
        due = due_s * 1000
        p.send(message("TopicDelay", "delayed", due=due_s))
        c = self.started(simple_consumer("GroupDelay", "TopicDelay"))
        got = receive_until(c, 20, 30, True, lambda l: l)
        arrived = int(time.time() * 1000)
        self.assertEqual(1, len(got))
        self.assertEqual(due, got[0].delivery_timestamp)
        self.assertGreaterEqual(arrived, due, "arrived before it was due")
        self.assertLessEqual(arrived, due + 10000, "arrived more than 10 s late")

    def test_transaction_commit_rollback_and_check_back(self):
        checker = Checker()
        p = self.started(producer("TopicTx", checker=checker))
        c = self.started(simple_consumer("GroupTx", "TopicTx"))
        for body, end in (("commit", "commit"), ("rollback", "rollback"),
                          ("check-commit", None), ("check-rollback", None)):
            tx = p.begin_transaction()
            p.send(message("TopicTx", body), tx)
            if end:
                getattr(tx, end)()
        # The last two were neither committed nor rolled back: the broker asks the producer
        # over Telemetry.
        got = receive_until(c, 20, 60, True, lambda l: len(l) >= 2)
        got += receive_until(c, 20, 4, True, lambda l: False)
        # Apache may check back a transaction again before the first answer has ended it, and
        # then commits it twice: a duplicate is at-least-once delivery, a missing or a
        # rolled-back message is a failure.
        self.assertEqual({"check-commit", "commit"}, {text(m) for m in got})
        wait_for("the check-back of check-rollback", 30, lambda: "check-rollback" in checker.checked)
        self.assertIn("check-commit", checker.checked)

    def test_simple_consumer_ack_and_invisible_duration(self):
        p = self.started(producer("TopicSimple"))
        for b in ("acked", "changed", "left"):
            p.send(message("TopicSimple", b))
        c = self.started(simple_consumer("GroupSimple", "TopicSimple"))
        first = {text(m): m for m in receive_until(c, 10, 30, False, lambda l: len(l) >= 3)}
        self.assertEqual({"acked", "changed", "left"}, set(first))
        t0 = time.time()
        c.ack(first["acked"])
        c.change_invisible_duration(first["changed"], 2)
        # "changed" comes back after ~2 s, "left" after its 10 s; "acked" never.
        back = {}
        deadline = time.time() + 40
        while len(back) < 2 and time.time() < deadline:
            for m in c.receive(16, 20) or []:
                back.setdefault(text(m), time.time() - t0)
                self.assertEqual(2, m.delivery_attempt, text(m))
                c.ack(m)
        self.assertEqual({"changed", "left"}, set(back))
        self.assertLess(back["changed"], back["left"], back)
        self.assertGreaterEqual(back["left"], 8, back)
        self.assertEqual([], receive_until(c, 10, 3, True, lambda l: False))

    def test_push_consumers_share_every_message_once(self):
        n = 40
        deliveries, counts, lock = {}, [0, 0], threading.Lock()

        def listener(i):
            def on_message(m):
                with lock:
                    deliveries[text(m)] = deliveries.get(text(m), 0) + 1
                    counts[i] += 1
            return Listener(on_message)

        for i in range(2):
            self.started(PushConsumer(config(), "GroupPush", listener(i),
                                      {"TopicPush": FilterExpression()})).startup()
        p = self.started(producer("TopicPush"))
        for i in range(n):
            p.send(message("TopicPush", f"push-{i}"))
        wait_for("40 pushed messages", 60, lambda: len(deliveries) >= n)
        time.sleep(2)
        self.assertEqual({f"push-{i}": 1 for i in range(n)}, deliveries)
        print(f"push consumers: {counts[0]} + {counts[1]} messages", file=sys.stderr)


if __name__ == "__main__":
    if not ENDPOINT:
        sys.exit("GRPC_ENDPOINT is not set (run run-suite.sh)")
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"compat/grpc-python: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.testsRun else 0)
