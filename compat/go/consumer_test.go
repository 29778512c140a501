package compat

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

func sendBodies(t *testing.T, group, topic, tag, prefix string, n int) []string {
	t.Helper()
	p := newProducer(t, group)
	var bodies []string
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := p.SendSync(context.Background(), primitive.NewMessage(topic, []byte(body)).WithTag(tag)); err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

func TestClusteringSplitsMessagesBetweenTwoMembersWithoutLoss(t *testing.T) {
	createTopic(t, "GoClusterTopic", 4)
	a := consume(t, "CG_go_cluster", "GoClusterTopic", all)
	b := consume(t, "CG_go_cluster", "GoClusterTopic", all)
	time.Sleep(3 * time.Second) // both members rebalance (NOTIFY_CONSUMER_IDS_CHANGED) before the sends
	want := sendBodies(t, "PG_go_cluster", "GoClusterTopic", "T", "cluster", 40)
	waitFor(t, 30*time.Second, func() bool { return a.len()+b.len() >= len(want) },
		func() string { return fmt.Sprintf("%d deliveries, got %d + %d", len(want), a.len(), b.len()) })
	time.Sleep(time.Second)
	got := append(a.bodies(), b.bodies()...)
	if !reflect.DeepEqual(sorted(got), sorted(want)) {
		t.Fatalf("expected every message once %q, got %q", sorted(want), sorted(got))
	}
	if a.len() == 0 || b.len() == 0 {
		t.Fatalf("expected both members to consume, got %d and %d", a.len(), b.len())
	}
}

func TestBroadcastingGivesEveryMemberEveryMessage(t *testing.T) {
	createTopic(t, "GoBroadcastTopic", 4)
	a := consume(t, "CG_go_bcast", "GoBroadcastTopic", all, consumer.WithConsumerModel(consumer.BroadCasting))
	b := consume(t, "CG_go_bcast", "GoBroadcastTopic", all, consumer.WithConsumerModel(consumer.BroadCasting))
	time.Sleep(time.Second)
	want := sendBodies(t, "PG_go_bcast", "GoBroadcastTopic", "T", "bcast", 12)
	expectBodies(t, "broadcast member 1", a, want)
	expectBodies(t, "broadcast member 2", b, want)
}

func TestOrderlyConsumptionKeepsQueueOrder(t *testing.T) {
	createTopic(t, "GoOrderlyTopic", 1)
	want := sendBodies(t, "PG_go_orderly", "GoOrderlyTopic", "T", "step", 20)
	rec := consume(t, "CG_go_orderly", "GoOrderlyTopic", all, consumer.WithConsumerOrder(true))
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= len(want) },
		func() string { return fmt.Sprintf("%d messages, got %q", len(want), rec.bodies()) })
	if got := rec.bodies(); !reflect.DeepEqual(got, want) {
		t.Fatalf("expected %q in order, got %q", want, got)
	}
}

func TestTagSelectorDeliversOnlyMatchingTags(t *testing.T) {
	createTopic(t, "GoTagTopic", 2)
	want := sendBodies(t, "PG_go_tag", "GoTagTopic", "TagA", "a", 5)
	want = append(want, sendBodies(t, "PG_go_tag", "GoTagTopic", "TagC", "c", 5)...)
	sendBodies(t, "PG_go_tag", "GoTagTopic", "TagB", "b", 5)
	rec := consume(t, "CG_go_tag", "GoTagTopic", consumer.MessageSelector{Type: consumer.TAG, Expression: "TagA || TagC"})
	expectBodies(t, "tag filter", rec, want)
}

func TestSQL92SelectorFiltersOnUserProperties(t *testing.T) {
	createTopic(t, "GoSqlTopic", 2)
	p := newProducer(t, "PG_go_sql")
	var want []string
	for i := 0; i < 10; i++ {
		tag := "odd"
		if i%2 == 0 {
			tag = "even"
		}
		body := fmt.Sprintf("sql-%d", i)
		m := primitive.NewMessage("GoSqlTopic", []byte(body)).WithTag(tag)
		m.WithProperty("a", fmt.Sprint(i))
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if i >= 5 && tag == "even" {
			want = append(want, body)
		}
	}
	rec := consume(t, "CG_go_sql", "GoSqlTopic", consumer.MessageSelector{Type: consumer.SQL92, Expression: "a >= 5 AND TAGS = 'even'"})
	expectBodies(t, "SQL92 filter", rec, want)
}

// The broker evaluates each SQL92 form on the user properties the Go client sets: numbers,
// strings, a property only some messages carry, and NOT/OR/<> combinations.
func TestSQL92FormsSelectTheExpectedMessages(t *testing.T) {
	createTopic(t, "GoSqlFormsTopic", 2)
	p := newProducer(t, "PG_go_sqlforms")
	for i := 0; i < 10; i++ {
		m := primitive.NewMessage("GoSqlFormsTopic", []byte(fmt.Sprint(i)))
		m.WithProperty("a", fmt.Sprint(i))
		m.WithProperty("s", fmt.Sprintf("s%d", i%3))
		if i%2 == 0 {
			m.WithProperty("opt", "set")
		}
		if _, err := p.SendSync(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		expr string
		want []string
	}{
		{"a BETWEEN 3 AND 5", []string{"3", "4", "5"}},
		{"s IN ('s0', 's2')", []string{"0", "2", "3", "5", "6", "8", "9"}},
		{"opt IS NULL", []string{"1", "3", "5", "7", "9"}},
		{"opt IS NOT NULL AND a > 5", []string{"6", "8"}},
		{"NOT (a < 8) OR s = 's1'", []string{"1", "4", "7", "8", "9"}},
		{"a <> 4 AND a >= 3 AND a <= 5", []string{"3", "5"}},
	}
	for i, c := range cases {
		rec := consume(t, fmt.Sprintf("CG_go_sqlforms_%d", i), "GoSqlFormsTopic", consumer.MessageSelector{Type: consumer.SQL92, Expression: c.expr})
		expectBodies(t, c.expr, rec, c.want)
	}
}

func TestFailedConsumptionIsRetriedThenMovedToTheDLQ(t *testing.T) {
	createTopic(t, "GoRetryTopic", 1)
	// A member's heartbeat creates the group's retry topic, as Apache's broker does, so a
	// member that starts later routes it at once (not at its next 30 s route refresh).
	primer := newPushConsumer(t, "CG_go_retry")
	if err := primer.Subscribe("GoRetryTopic", all, func(context.Context, ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		return consumer.ConsumeRetryLater, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := primer.Start(); err != nil {
		t.Fatal(err)
	}
	waitForRoute(t, "%RETRY%CG_go_retry", 1)
	primer.Shutdown()
	var mu sync.Mutex
	var attempts []int32
	c := newPushConsumer(t, "CG_go_retry", consumer.WithMaxReconsumeTimes(2))
	err := c.Subscribe("GoRetryTopic", all, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		for _, m := range msgs {
			attempts = append(attempts, m.ReconsumeTimes)
		}
		mu.Unlock()
		return consumer.ConsumeRetryLater, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	sendBodies(t, "PG_go_retry", "GoRetryTopic", "T", "doomed", 1)
	snapshot := func() []int32 { mu.Lock(); defer mu.Unlock(); return append([]int32(nil), attempts...) }
	waitFor(t, 60*time.Second, func() bool { return len(snapshot()) >= 3 },
		func() string { return fmt.Sprintf("first delivery + 2 retries, got reconsumeTimes %v", snapshot()) })
	if got := snapshot()[:3]; !reflect.DeepEqual(got, []int32{0, 1, 2}) {
		t.Fatalf("expected reconsumeTimes [0 1 2], got %v", got)
	}
	// The third failure sends the message to the DLQ, which the broker creates and routes then.
	waitForRoute(t, "%DLQ%CG_go_retry", 1)
	dlq := consume(t, "CG_go_dlq_reader", "%DLQ%CG_go_retry", all)
	waitFor(t, 30*time.Second, func() bool { return dlq.len() >= 1 }, func() string { return "a message in %DLQ%CG_go_retry" })
	if got := dlq.bodies(); got[0] != "doomed-0" {
		t.Fatalf("expected doomed-0 in the DLQ, got %q", got)
	}
}

// An orderly consumer suspends its queue on a failing message; past maxReconsumeTimes the
// client sends it back with delay level -1, which the broker puts straight in the DLQ, and
// the queue moves on to the next message.
func TestOrderlyFailuresEndInTheDLQAndTheQueueMovesOn(t *testing.T) {
	createTopic(t, "GoOrderlyRetryTopic", 1)
	sendBodies(t, "PG_go_orderly_retry", "GoOrderlyRetryTopic", "T", "poison", 1)
	sendBodies(t, "PG_go_orderly_retry", "GoOrderlyRetryTopic", "T", "after", 1)
	var mu sync.Mutex
	var seen []string
	c := newPushConsumer(t, "CG_go_orderly_retry", consumer.WithConsumerOrder(true), consumer.WithMaxReconsumeTimes(1),
		consumer.WithSuspendCurrentQueueTimeMillis(200*time.Millisecond))
	err := c.Subscribe("GoOrderlyRetryTopic", all, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			seen = append(seen, string(m.Body))
			if string(m.Body) == "poison-0" {
				return consumer.SuspendCurrentQueueAMoment, nil
			}
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	snapshot := func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
	waitFor(t, 30*time.Second, func() bool { return contains(snapshot(), "after-0") },
		func() string { return fmt.Sprintf("after-0 once poison-0 gave up, got %q", snapshot()) })
	// This client gives up once the local reconsume count exceeds the maximum (three tries here).
	got := snapshot()
	if len(got) < 3 || got[len(got)-1] != "after-0" {
		t.Fatalf("expected poison-0 retried in place, then after-0, got %q", got)
	}
	for _, b := range got[:len(got)-1] {
		if b != "poison-0" {
			t.Fatalf("expected only poison-0 before after-0 (the queue held), got %q", got)
		}
	}
	waitForRoute(t, "%DLQ%CG_go_orderly_retry", 1)
	dlq := consume(t, "CG_go_orderly_dlq_reader", "%DLQ%CG_go_orderly_retry", all)
	expectBodies(t, "orderly DLQ", dlq, []string{"poison-0"})
}

func TestDelayLevelHoldsTheMessageBack(t *testing.T) {
	createTopic(t, "GoDelayTopic", 1)
	rec := consume(t, "CG_go_delay", "GoDelayTopic", all)
	p := newProducer(t, "PG_go_delay")
	sent := time.Now()
	if _, err := p.SendSync(context.Background(), primitive.NewMessage("GoDelayTopic", []byte("later")).WithDelayTimeLevel(2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= 1 }, func() string { return "the delayed message" })
	if took := time.Since(sent); took < 1900*time.Millisecond || took > 10*time.Second {
		t.Fatalf("expected delivery after about 2 s (level 2 = %q), took %v", "2s", took)
	}
}
