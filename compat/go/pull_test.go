package compat

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// A pull consumer reads one queue from offset 0: every message in order with its queue
// offsets; a pull at the end of the queue returns the next message once it is sent.
func TestPullFromAnOffsetReturnsTheQueueInOrder(t *testing.T) {
	createTopic(t, "GoPullTopic", 1)
	want := sendBodies(t, "PG_go_pull", "GoPullTopic", "T", "pull", 5)
	c := newPullConsumer(t, "CG_go_pull", "GoPullTopic")
	mq := &primitive.MessageQueue{Topic: "GoPullTopic", BrokerName: cluster.brokerName, QueueId: 0}
	r, err := c.PullFrom(context.Background(), mq, 0, 32)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != primitive.PullFound || r.NextBeginOffset != 5 || r.MaxOffset != 5 {
		t.Fatalf("expected FOUND with next offset 5 and max offset 5, got status %v next %d max %d",
			r.Status, r.NextBeginOffset, r.MaxOffset)
	}
	var got []string
	for i, m := range r.GetMessageExts() {
		if m.QueueOffset != int64(i) {
			t.Fatalf("expected queue offset %d, got %d", i, m.QueueOffset)
		}
		got = append(got, string(m.Body))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expected %q, got %q", want, got)
	}
	// At the end of the queue the broker holds the pull (long polling) and answers it as
	// soon as the next message is stored.
	type result struct {
		r   *primitive.PullResult
		err error
	}
	held := make(chan result, 1)
	go func() {
		r, err := c.PullFrom(context.Background(), mq, 5, 32)
		held <- result{r, err}
	}()
	time.Sleep(500 * time.Millisecond)
	sent := time.Now()
	sendBodies(t, "PG_go_pull", "GoPullTopic", "T", "late", 1)
	select {
	case h := <-held:
		if h.err != nil {
			t.Fatal(h.err)
		}
		msgs := h.r.GetMessageExts()
		if h.r.Status != primitive.PullFound || len(msgs) != 1 || string(msgs[0].Body) != "late-0" || msgs[0].QueueOffset != 5 {
			t.Fatalf("expected the held pull to return late-0 at offset 5, got status %v with %d messages", h.r.Status, len(msgs))
		}
		if waited := time.Since(sent); waited > 3*time.Second {
			t.Fatalf("the held pull answered %v after the send, expected promptly", waited)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the pull held at the end of the queue did not return within 10 s of a new message")
	}
}

func newPullConsumer(t *testing.T, group, topic string) rocketmq.PullConsumer {
	t.Helper()
	c, err := rocketmq.NewPullConsumer(consumer.WithNameServer(primitive.NamesrvAddr{cluster.nameSrv}),
		consumer.WithGroupName(group), consumer.WithInstance(uniqueName(group)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(topic, all); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// Poll and ACK: the pull consumer owns the queues through rebalancing, pulls them in the
// background and hands every message out once.
func TestPollHandsOutEveryMessageOnce(t *testing.T) {
	createTopic(t, "GoPollTopic", 2)
	want := sendBodies(t, "PG_go_poll", "GoPollTopic", "T", "poll", 8)
	c := newPullConsumer(t, "CG_go_poll", "GoPollTopic")
	rec := &recorder{}
	deadline := time.Now().Add(30 * time.Second)
	for rec.len() < len(want) && time.Now().Before(deadline) {
		cr, err := c.Poll(context.Background(), time.Second)
		if consumer.IsNoNewMsgError(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.add(cr.GetMsgList()...)
		c.ACK(context.Background(), cr, consumer.ConsumeSuccess)
	}
	expectBodies(t, "poll", rec, want)
}
