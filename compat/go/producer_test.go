package compat

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
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
	rec := consume(t, "CG_go_sync", "GoSyncTopic", all)
	expectBodies(t, "sync send", rec, []string{"sync-1"})
	m := rec.messages()[0]
	if m.MsgId != r.MsgID || m.OffsetMsgId != r.OffsetMsgID || m.Queue.QueueId != r.MessageQueue.QueueId || m.QueueOffset != r.QueueOffset {
		t.Fatalf("expected the consumer to see the ids and place of the send result (%s %s queue %d offset %d), got %s %s queue %d offset %d",
			r.MsgID, r.OffsetMsgID, r.MessageQueue.QueueId, r.QueueOffset, m.MsgId, m.OffsetMsgId, m.Queue.QueueId, m.QueueOffset)
	}
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
	if !regexp.MustCompile(`^[0-9A-F]{32}(,[0-9A-F]{32}){9}$`).MatchString(r.OffsetMsgID) {
		t.Fatalf("expected ten comma-separated offset msgIds for the batch, got %q", r.OffsetMsgID)
	}
	rec := consume(t, "CG_go_batch", "GoBatchTopic", all)
	expectBodies(t, "batch send", rec, want)
	// One queue holds the batch in send order from the offset of the send result, each
	// message under the offset id the result lists for it and a unique key of its own.
	offs := strings.Split(r.OffsetMsgID, ",")
	uniq := map[string]bool{}
	for _, m := range rec.messages() {
		i := int(m.QueueOffset - r.QueueOffset)
		if m.Queue.QueueId != r.MessageQueue.QueueId || i < 0 || i >= len(want) || string(m.Body) != want[i] || m.OffsetMsgId != offs[i] {
			t.Fatalf("batch message %q at queue %d offset %d (%s) does not match the send result (queue %d offset %d, %s)",
				m.Body, m.Queue.QueueId, m.QueueOffset, m.OffsetMsgId, r.MessageQueue.QueueId, r.QueueOffset, r.OffsetMsgID)
		}
		uniq[m.MsgId] = true
	}
	if len(uniq) != len(want) || uniq[""] {
		t.Fatalf("expected %d distinct unique keys, got %v", len(want), uniq)
	}
}

// Three sharding keys interleaved over four queues: each key stays on one queue and an
// orderly consumer sees each key's messages in send order.
func TestShardingKeysKeepPerKeyOrderThroughOrderlyConsumption(t *testing.T) {
	createTopic(t, "GoOrderTopic", 4)
	p := newProducer(t, "PG_go_order", producer.WithQueueSelector(producer.NewHashQueueSelector()))
	keys := []string{"order-1", "order-2", "order-3"}
	want := map[string][]string{}
	queueOf := map[string]map[int]bool{}
	for i := 0; i < 15; i++ {
		for _, k := range keys {
			body := fmt.Sprintf("%s/step-%02d", k, i)
			r, err := p.SendSync(context.Background(), primitive.NewMessage("GoOrderTopic", []byte(body)).WithShardingKey(k))
			if err != nil {
				t.Fatal(err)
			}
			if queueOf[k] == nil {
				queueOf[k] = map[int]bool{}
			}
			queueOf[k][r.MessageQueue.QueueId] = true
			want[k] = append(want[k], body)
		}
	}
	for k, qs := range queueOf {
		if len(qs) != 1 {
			t.Fatalf("expected one queue for sharding key %s, got %v", k, qs)
		}
	}
	rec := consume(t, "CG_go_order", "GoOrderTopic", all, consumer.WithConsumerOrder(true))
	total := 15 * len(keys)
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= total },
		func() string { return fmt.Sprintf("%d messages, got %q", total, rec.bodies()) })
	got := map[string][]string{}
	for _, b := range rec.bodies() {
		k := b[:strings.Index(b, "/")]
		got[k] = append(got[k], b)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expected each key's messages in send order %q, got %q", want, got)
	}
}

// A body of 10 KiB is over the client's 4 KiB compression threshold: the broker stores the
// compressed bytes with the compressed flag and the consumer gets the original bytes back,
// with the tag, keys and a non-ASCII user property the producer set.
func TestTagsKeysAndACompressedBodyReachTheConsumer(t *testing.T) {
	createTopic(t, "GoCompressTopic", 2)
	p := newProducer(t, "PG_go_compress")
	big := []byte(strings.Repeat("rocketmq-c compressed body line\n", 320))
	small := []byte("small body")
	for _, body := range [][]byte{big, small} {
		m := primitive.NewMessage("GoCompressTopic", body).WithTag("TagZ").WithKeys([]string{"key-a", "key-b"})
		m.WithProperty("note", "grün · 緑")
		if r, err := p.SendSync(context.Background(), m); err != nil || r.Status != primitive.SendOK {
			t.Fatalf("expected SEND_OK, got %v, %v", r, err)
		}
	}
	rec := consume(t, "CG_go_compress", "GoCompressTopic", all)
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= 2 }, func() string { return "the two messages" })
	for _, m := range rec.messages() {
		if m.GetTags() != "TagZ" || m.GetKeys() != "key-a key-b" || m.GetProperty("note") != "grün · 緑" {
			t.Fatalf("expected tag TagZ, keys %q and note %q, got %q, %q and %q", "key-a key-b", "grün · 緑",
				m.GetTags(), m.GetKeys(), m.GetProperty("note"))
		}
		compressed := m.SysFlag&primitive.FlagCompressed != 0
		switch {
		case len(m.Body) == len(big):
			if !bytes.Equal(m.Body, big) {
				t.Fatalf("the compressed body came back different (%d bytes)", len(m.Body))
			}
			if !compressed || int(m.StoreSize) >= len(big) {
				t.Fatalf("expected the 10 KiB body stored compressed, sysFlag %d, store size %d", m.SysFlag, m.StoreSize)
			}
		case bytes.Equal(m.Body, small):
			if compressed {
				t.Fatalf("expected the small body stored as is, sysFlag %d", m.SysFlag)
			}
		default:
			t.Fatalf("unexpected body of %d bytes", len(m.Body))
		}
	}
}

// A topic nobody created: the producer takes TBW102's route, the broker creates the topic
// on the first send (autoCreateTopicEnable) with the client's 4 queues and routes it.
func TestSendingToAnUncreatedTopicCreatesIt(t *testing.T) {
	p := newProducer(t, "PG_go_auto")
	r, err := p.SendSync(context.Background(), primitive.NewMessage("GoAutoCreatedTopic", []byte("auto-1")))
	if err != nil || r.Status != primitive.SendOK {
		t.Fatalf("expected SEND_OK on an uncreated topic, got %v, %v", r, err)
	}
	waitForRoute(t, "GoAutoCreatedTopic", 4)
	expectBodies(t, "auto-created topic", consume(t, "CG_go_auto", "GoAutoCreatedTopic", all), []string{"auto-1"})
}
