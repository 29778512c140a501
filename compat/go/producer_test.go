package compat

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func expectBodies(t *testing.T, what string, rec *recorder, want []string) {
	t.Helper()
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= len(want) },
		func() string { return fmt.Sprintf("%s: %d messages, got %q", what, len(want), rec.bodies()) })
	time.Sleep(500 * time.Millisecond) // a duplicate or an unwanted message would show up now
	if got := sorted(rec.bodies()); !reflect.DeepEqual(got, sorted(want)) {
		t.Fatalf("%s: expected %q, got %q", what, sorted(want), got)
	}
}

func TestSyncSendReturnsSendOKWithAnOffsetMsgID(t *testing.T) {
	createTopic(t, "GoSyncTopic", 4)
	p := newProducer(t, "PG_go_sync")
	r, err := p.SendSync(context.Background(), primitive.NewMessage("GoSyncTopic", []byte("sync-1")).WithTag("TagA").WithKeys([]string{"k1"}))
	if err != nil || r.Status != primitive.SendOK {
		t.Fatalf("expected SEND_OK, got %v, %v", r, err)
	}
	if !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(r.OffsetMsgID) {
		t.Fatalf("expected a 32-hex offset msgId, got %q", r.OffsetMsgID)
	}
	expectBodies(t, "sync send", consume(t, "CG_go_sync", "GoSyncTopic", all), []string{"sync-1"})
}

func TestAsyncSendCompletesThroughTheCallback(t *testing.T) {
	createTopic(t, "GoAsyncTopic", 4)
	p := newProducer(t, "PG_go_async")
	done := make(chan error, 1)
	err := p.SendAsync(context.Background(), func(ctx context.Context, r *primitive.SendResult, err error) {
		if err == nil && r.Status != primitive.SendOK {
			err = fmt.Errorf("status %v", r.Status)
		}
		done <- err
	}, primitive.NewMessage("GoAsyncTopic", []byte("async-1")))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("async send: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no async send callback in 10 s")
	}
	expectBodies(t, "async send", consume(t, "CG_go_async", "GoAsyncTopic", all), []string{"async-1"})
}

func TestOnewaySendIsStored(t *testing.T) {
	createTopic(t, "GoOnewayTopic", 2)
	p := newProducer(t, "PG_go_oneway")
	var want []string
	for i := 0; i < 5; i++ {
		body := fmt.Sprintf("oneway-%d", i)
		if err := p.SendOneWay(context.Background(), primitive.NewMessage("GoOnewayTopic", []byte(body))); err != nil {
			t.Fatal(err)
		}
		want = append(want, body)
	}
	expectBodies(t, "oneway send", consume(t, "CG_go_oneway", "GoOnewayTopic", all), want)
}

func TestBatchSendStoresEveryMessage(t *testing.T) {
	createTopic(t, "GoBatchTopic", 4)
	p := newProducer(t, "PG_go_batch")
	var msgs []*primitive.Message
	var want []string
	for i := 0; i < 10; i++ {
		body := fmt.Sprintf("batch-%d", i)
		msgs = append(msgs, primitive.NewMessage("GoBatchTopic", []byte(body)))
		want = append(want, body)
	}
	r, err := p.SendSync(context.Background(), msgs...)
	if err != nil || r.Status != primitive.SendOK {
		t.Fatalf("expected SEND_OK for the batch, got %v, %v", r, err)
	}
	expectBodies(t, "batch send", consume(t, "CG_go_batch", "GoBatchTopic", all), want)
}

func TestShardingKeyKeepsAnOrderOnOneQueueAndConsumptionInOrder(t *testing.T) {
	createTopic(t, "GoOrderTopic", 4)
	p := newProducer(t, "PG_go_order", producer.WithQueueSelector(producer.NewHashQueueSelector()))
	var want []string
	queues := map[int]bool{}
	for i := 0; i < 30; i++ {
		body := fmt.Sprintf("step-%02d", i)
		r, err := p.SendSync(context.Background(), primitive.NewMessage("GoOrderTopic", []byte(body)).WithShardingKey("order-1"))
		if err != nil {
			t.Fatal(err)
		}
		queues[r.MessageQueue.QueueId] = true
		want = append(want, body)
	}
	if len(queues) != 1 {
		t.Fatalf("expected one queue for one sharding key, got %v", queues)
	}
	rec := consume(t, "CG_go_order", "GoOrderTopic", all, consumer.WithConsumerOrder(true))
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= len(want) },
		func() string { return fmt.Sprintf("%d messages, got %q", len(want), rec.bodies()) })
	if got := rec.bodies(); !reflect.DeepEqual(got, want) {
		t.Fatalf("expected consumption in send order %q, got %q", want, got)
	}
}
