// Package grpccompat drives the RocketMQ 5.x gRPC Go SDK (github.com/apache/rocketmq-clients/golang/v5)
// against the broker named by GRPC_ENDPOINT; run-suite.sh starts it with the topics and groups of
// compat/grpc-common/servers.sh. Every scenario has its own topic or group; every wait has a deadline.
package grpccompat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	rmq "github.com/apache/rocketmq-clients/golang/v5"
	"github.com/apache/rocketmq-clients/golang/v5/credentials"
)

var endpoint string

func TestMain(m *testing.M) {
	endpoint = os.Getenv("GRPC_ENDPOINT")
	if endpoint == "" {
		fmt.Println("GRPC_ENDPOINT is not set (run run-suite.sh)")
		os.Exit(2)
	}
	rmq.EnableSsl = false // the suite's servers speak plain HTTP/2
	rmq.ResetLogger()
	os.Exit(m.Run())
}

// The suite's credentials: those of the broker's super user when it runs with ACL 2.0
// (GRPC_AUTH=1 in servers.sh), else none.
func config(group string) *rmq.Config {
	return &rmq.Config{Endpoint: endpoint, ConsumerGroup: group, Credentials: &credentials.SessionCredentials{
		AccessKey: os.Getenv("GRPC_AUTH_USER"), AccessSecret: os.Getenv("GRPC_AUTH_SECRET")}}
}

func newProducer(t *testing.T, opts ...rmq.ProducerOption) rmq.Producer {
	t.Helper()
	p, err := rmq.NewProducer(config(""), opts...)
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("producer Start: %v", err)
	}
	t.Cleanup(func() { p.GracefulStop() })
	return p
}

func send(t *testing.T, p rmq.Producer, m *rmq.Message) *rmq.SendReceipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := p.Send(ctx, m)
	if err != nil {
		t.Fatalf("send %q: %v", m.Body, err)
	}
	return r[0]
}

func newSimpleConsumer(t *testing.T, group, topic, tags string) rmq.SimpleConsumer {
	t.Helper()
	// The SDK's receive deadline is awaitDuration + 3 s, and Apache's proxy raises a shorter
	// long-polling time to its minimum of 5 s, refusing (ILLEGAL_POLLING_TIME) a deadline
	// that cannot hold it: 5 s is the shortest wait that works with both.
	c, err := rmq.NewSimpleConsumer(config(group), rmq.WithSimpleAwaitDuration(5*time.Second),
		rmq.WithSimpleSubscriptionExpressions(map[string]*rmq.FilterExpression{topic: rmq.NewFilterExpression(tags)}))
	if err != nil {
		t.Fatalf("NewSimpleConsumer: %v", err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("simple consumer Start: %v", err)
	}
	t.Cleanup(func() { c.GracefulStop() })
	return c
}

// receive returns one batch; "no new message" (MESSAGE_NOT_FOUND, 40401) is an empty batch.
func receive(t *testing.T, c rmq.SimpleConsumer, invisible time.Duration) []*rmq.MessageView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mvs, err := c.Receive(ctx, 16, invisible)
	var st *rmq.ErrRpcStatus
	if errors.As(err, &st) && st.GetCode() == 40401 {
		return nil
	}
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return mvs
}

// receiveUntil receives (and acks when ack) until done(all so far) or the deadline.
func receiveUntil(t *testing.T, c rmq.SimpleConsumer, invisible, within time.Duration, ack bool,
	done func([]*rmq.MessageView) bool) []*rmq.MessageView {
	t.Helper()
	var got []*rmq.MessageView
	for deadline := time.Now().Add(within); !done(got) && time.Now().Before(deadline); {
		for _, mv := range receive(t, c, invisible) {
			got = append(got, mv)
			if ack {
				if err := c.Ack(context.Background(), mv); err != nil {
					t.Fatalf("ack %q: %v", mv.GetBody(), err)
				}
			}
		}
	}
	return got
}

func nonEmpty(l []*rmq.MessageView) bool { return len(l) > 0 }
func never([]*rmq.MessageView) bool      { return false }

func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
	}
}

func TestNormalSendWithTagAndKeys(t *testing.T) {
	p := newProducer(t, rmq.WithTopics("TopicNormal"))
	m := &rmq.Message{Topic: "TopicNormal", Body: []byte("normal")}
	m.SetTag("TagA")
	m.SetKeys("key-1", "key-2")
	m.AddProperty("color", "red")
	r := send(t, p, m)
	other := &rmq.Message{Topic: "TopicNormal", Body: []byte("other")}
	other.SetTag("TagB")
	send(t, p, other)
	c := newSimpleConsumer(t, "GroupNormal", "TopicNormal", "TagA")
	got := receiveUntil(t, c, 20*time.Second, 30*time.Second, true, nonEmpty)
	if len(got) != 1 {
		t.Fatalf("received %d messages, want 1", len(got))
	}
	v := got[0]
	keys := append([]string(nil), v.GetKeys()...)
	sort.Strings(keys)
	if v.GetMessageId() != r.MessageID || string(v.GetBody()) != "normal" || v.GetTag() == nil || *v.GetTag() != "TagA" ||
		!reflect.DeepEqual(keys, []string{"key-1", "key-2"}) || v.GetProperties()["color"] != "red" ||
		v.GetTopic() != "TopicNormal" || v.GetDeliveryAttempt() != 1 {
		t.Fatalf("received id %s body %q tag %v keys %v props %v topic %s attempt %d; sent id %s",
			v.GetMessageId(), v.GetBody(), v.GetTag(), keys, v.GetProperties(), v.GetTopic(), v.GetDeliveryAttempt(), r.MessageID)
	}
	if extra := receiveUntil(t, c, 20*time.Second, 3*time.Second, true, never); len(extra) != 0 {
		t.Fatalf("the TagB message reached a TagA subscription: %q", extra[0].GetBody())
	}
}

func TestFifoSendAndConsumeInGroupOrder(t *testing.T) {
	const groups, perGroup = 3, 6
	p := newProducer(t, rmq.WithTopics("TopicFifo"))
	for i := 0; i < perGroup; i++ {
		for g := 0; g < groups; g++ {
			m := &rmq.Message{Topic: "TopicFifo", Body: []byte(fmt.Sprintf("mg%d:%d", g, i))}
			m.SetMessageGroup(fmt.Sprintf("mg%d", g))
			send(t, p, m)
		}
	}
	var mu sync.Mutex
	seen := map[string][]string{}
	total := 0
	c, err := rmq.NewPushConsumer(config("GroupFifo"),
		rmq.WithPushSubscriptionExpressions(map[string]*rmq.FilterExpression{"TopicFifo": rmq.SUB_ALL}),
		rmq.WithPushAwaitDuration(5*time.Second),
		rmq.WithPushMessageListener(&rmq.FuncMessageListener{Consume: func(mv *rmq.MessageView) rmq.ConsumerResult {
			parts := strings.SplitN(string(mv.GetBody()), ":", 2)
			mu.Lock()
			defer mu.Unlock()
			if mv.GetMessageGroup() == nil || *mv.GetMessageGroup() != parts[0] {
				seen["wrong-group"] = append(seen["wrong-group"], string(mv.GetBody()))
			}
			seen[parts[0]] = append(seen[parts[0]], parts[1])
			total++
			return rmq.SUCCESS
		}}))
	if err != nil {
		t.Fatalf("NewPushConsumer: %v", err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("push consumer Start: %v", err)
	}
	defer c.GracefulStop()
	waitFor(t, "18 FIFO messages", 60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return total >= groups*perGroup })
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"0", "1", "2", "3", "4", "5"}
	for g := 0; g < groups; g++ {
		if k := fmt.Sprintf("mg%d", g); !reflect.DeepEqual(seen[k], want) {
			t.Errorf("message group %s consumed in order %v, want %v", k, seen[k], want)
		}
	}
	if len(seen["wrong-group"]) > 0 {
		t.Errorf("messages with the wrong message group: %v", seen["wrong-group"])
	}
}

func TestDelayMessageArrivesOnTime(t *testing.T) {
	p := newProducer(t, rmq.WithTopics("TopicDelay"))
	due := time.Now().Add(5 * time.Second).Truncate(time.Millisecond)
	m := &rmq.Message{Topic: "TopicDelay", Body: []byte("delayed")}
	m.SetDelayTimestamp(due)
	send(t, p, m)
	c := newSimpleConsumer(t, "GroupDelay", "TopicDelay", "*")
	got := receiveUntil(t, c, 20*time.Second, 30*time.Second, true, nonEmpty)
	arrived := time.Now()
	if len(got) != 1 {
		t.Fatalf("received %d delayed messages, want 1", len(got))
	}
	if ts := got[0].GetDeliveryTimestamp(); ts == nil || !ts.Equal(due) {
		t.Errorf("delivery timestamp %v, want %v", ts, due)
	}
	if arrived.Before(due) {
		t.Errorf("arrived %v before it was due", due.Sub(arrived))
	}
	if arrived.After(due.Add(10 * time.Second)) {
		t.Errorf("arrived %v after it was due", arrived.Sub(due))
	}
}

func TestTransactionCommitRollbackAndCheckBack(t *testing.T) {
	var mu sync.Mutex
	checked := map[string]bool{}
	p := newProducer(t, rmq.WithTopics("TopicTx"), rmq.WithTransactionChecker(&rmq.TransactionChecker{
		Check: func(mv *rmq.MessageView) rmq.TransactionResolution {
			mu.Lock()
			checked[string(mv.GetBody())] = true
			mu.Unlock()
			if string(mv.GetBody()) == "check-commit" {
				return rmq.COMMIT
			}
			return rmq.ROLLBACK
		}}))
	c := newSimpleConsumer(t, "GroupTx", "TopicTx", "*")
	sendTx := func(body string) rmq.Transaction {
		tx := p.BeginTransaction()
		if _, err := p.SendWithTransaction(context.Background(), &rmq.Message{Topic: "TopicTx", Body: []byte(body)}, tx); err != nil {
			t.Fatalf("send %s: %v", body, err)
		}
		return tx
	}
	if err := sendTx("commit").Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := sendTx("rollback").RollBack(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	// Neither committed nor rolled back: the broker asks the producer over Telemetry.
	sendTx("check-commit")
	sendTx("check-rollback")
	var bodies []string
	got := receiveUntil(t, c, 20*time.Second, 60*time.Second, true, func(l []*rmq.MessageView) bool { return len(l) >= 2 })
	got = append(got, receiveUntil(t, c, 20*time.Second, 4*time.Second, true, never)...)
	for _, mv := range got {
		bodies = append(bodies, string(mv.GetBody()))
	}
	sort.Strings(bodies)
	if !reflect.DeepEqual(bodies, []string{"check-commit", "commit"}) {
		t.Errorf("delivered %v, want [check-commit commit]", bodies)
	}
	waitFor(t, "the check-back of check-rollback", 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return checked["check-rollback"] })
	mu.Lock()
	defer mu.Unlock()
	if !checked["check-commit"] {
		t.Errorf("check-commit was never checked back: %v", checked)
	}
}

func TestSimpleConsumerAckAndInvisibleDuration(t *testing.T) {
	p := newProducer(t, rmq.WithTopics("TopicSimple"))
	for _, b := range []string{"acked", "changed", "left"} {
		send(t, p, &rmq.Message{Topic: "TopicSimple", Body: []byte(b)})
	}
	c := newSimpleConsumer(t, "GroupSimple", "TopicSimple", "*")
	first := map[string]*rmq.MessageView{}
	for _, mv := range receiveUntil(t, c, 10*time.Second, 30*time.Second, false, func(l []*rmq.MessageView) bool { return len(l) >= 3 }) {
		first[string(mv.GetBody())] = mv
	}
	if len(first) != 3 || first["acked"] == nil || first["changed"] == nil || first["left"] == nil {
		t.Fatalf("first receive got %v", first)
	}
	t0 := time.Now()
	if err := c.Ack(context.Background(), first["acked"]); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if err := c.ChangeInvisibleDuration(first["changed"], 2*time.Second); err != nil {
		t.Fatalf("changeInvisibleDuration: %v", err)
	}
	// "changed" comes back after ~2 s, "left" after its 10 s; "acked" never.
	back := map[string]time.Duration{}
	for deadline := time.Now().Add(40 * time.Second); len(back) < 2 && time.Now().Before(deadline); {
		for _, mv := range receive(t, c, 20*time.Second) {
			if _, ok := back[string(mv.GetBody())]; !ok {
				back[string(mv.GetBody())] = time.Since(t0)
			}
			if mv.GetDeliveryAttempt() != 2 {
				t.Errorf("%s: delivery attempt %d, want 2", mv.GetBody(), mv.GetDeliveryAttempt())
			}
			if err := c.Ack(context.Background(), mv); err != nil {
				t.Fatalf("ack: %v", err)
			}
		}
	}
	_, hasChanged := back["changed"]
	_, hasLeft := back["left"]
	if len(back) != 2 || !hasChanged || !hasLeft {
		t.Fatalf("redelivered %v, want changed and left", back)
	}
	if back["changed"] >= back["left"] || back["left"] < 8*time.Second {
		t.Errorf("redelivery times %v: changed must come first, left after ~10 s", back)
	}
	if extra := receiveUntil(t, c, 10*time.Second, 3*time.Second, true, never); len(extra) != 0 {
		t.Errorf("after the acks, received %q", extra[0].GetBody())
	}
}

func TestPushConsumersShareEveryMessageOnce(t *testing.T) {
	const n = 40
	var mu sync.Mutex
	deliveries := map[string]int{}
	counts := [2]int{}
	for i := 0; i < 2; i++ {
		i := i
		c, err := rmq.NewPushConsumer(config("GroupPush"),
			rmq.WithPushSubscriptionExpressions(map[string]*rmq.FilterExpression{"TopicPush": rmq.SUB_ALL}),
			rmq.WithPushAwaitDuration(5*time.Second),
			rmq.WithPushMessageListener(&rmq.FuncMessageListener{Consume: func(mv *rmq.MessageView) rmq.ConsumerResult {
				mu.Lock()
				deliveries[string(mv.GetBody())]++
				counts[i]++
				mu.Unlock()
				return rmq.SUCCESS
			}}))
		if err != nil {
			t.Fatalf("NewPushConsumer: %v", err)
		}
		if err := c.Start(); err != nil {
			t.Fatalf("push consumer Start: %v", err)
		}
		defer c.GracefulStop()
	}
	p := newProducer(t, rmq.WithTopics("TopicPush"))
	for i := 0; i < n; i++ {
		send(t, p, &rmq.Message{Topic: "TopicPush", Body: []byte(fmt.Sprintf("push-%d", i))})
	}
	waitFor(t, "40 pushed messages", 60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(deliveries) >= n })
	time.Sleep(2 * time.Second)
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		if d := deliveries[fmt.Sprintf("push-%d", i)]; d != 1 {
			t.Errorf("push-%d delivered %d times", i, d)
		}
	}
	t.Logf("push consumers: %d + %d messages", counts[0], counts[1])
}

// With ACL 2.0 on the broker, a producer without credentials or with a wrong secret cannot start:
// the broker answers its calls UNAUTHORIZED (40100) with Apache's texts. The other scenarios
// sign with the super user's credentials and pass.
func TestCredentialsRefused(t *testing.T) {
	if os.Getenv("GRPC_AUTH_USER") == "" {
		t.Skip("the broker runs without ACL (GRPC_AUTH=1 in servers.sh turns it on)")
	}
	for _, c := range []struct {
		name   string
		creds  credentials.SessionCredentials
		reason string
	}{
		{"unsigned", credentials.SessionCredentials{}, "username cannot be null."},
		{"wrong secret", credentials.SessionCredentials{AccessKey: os.Getenv("GRPC_AUTH_USER"), AccessSecret: "wrong"},
			"check signature failed."},
		{"unknown user", credentials.SessionCredentials{AccessKey: "nobody", AccessSecret: "x"},
			"User:nobody is not found."},
	} {
		cfg := config("")
		cfg.Credentials = &c.creds
		p, err := rmq.NewProducer(cfg, rmq.WithTopics("TopicNormal"))
		if err != nil {
			t.Fatalf("%s: NewProducer: %v", c.name, err)
		}
		err = p.Start()
		if err == nil {
			p.GracefulStop()
			t.Fatalf("%s: the producer started", c.name)
		}
		// The SDK's error text: "... CODE: UNAUTHORIZED, MESSAGE: <the Status message>".
		if !strings.Contains(err.Error(), "CODE: UNAUTHORIZED, MESSAGE: "+c.reason) {
			t.Fatalf("%s: Start failed with %v, want UNAUTHORIZED and %q", c.name, err, c.reason)
		}
	}
}

// Two brokers (GRPC_TWO_BROKERS=1 in servers.sh) serve TopicMulti, each on its own gRPC port: the
// route the SDK gets points each broker's queues at that broker, so the producer's sends land on
// both (the receipts name both endpoints), and a SimpleConsumer, receiving from each broker of
// its assignments, gets every message.
func TestTwoBrokersSendToBothAndConsumeAll(t *testing.T) {
	second := os.Getenv("GRPC_ENDPOINT2")
	if second == "" {
		t.Skip("one broker (GRPC_TWO_BROKERS=1 in servers.sh starts a second)")
	}
	p := newProducer(t, rmq.WithTopics("TopicMulti"))
	c := newSimpleConsumer(t, "GroupMulti", "TopicMulti", "*")
	const n = 20
	ports := map[int32]int{}
	for i := 0; i < n; i++ {
		r := send(t, p, &rmq.Message{Topic: "TopicMulti", Body: []byte(fmt.Sprintf("multi-%d", i))})
		if r.Endpoints == nil || len(r.Endpoints.GetAddresses()) == 0 {
			t.Fatalf("receipt of multi-%d names no endpoint", i)
		}
		ports[r.Endpoints.GetAddresses()[0].GetPort()]++
	}
	want := map[int32]bool{}
	for _, e := range []string{endpoint, second} {
		var port int32
		fmt.Sscanf(e[strings.LastIndex(e, ":")+1:], "%d", &port)
		want[port] = true
	}
	for port := range ports {
		if !want[port] {
			t.Fatalf("a send went to port %d, not to %s or %s", port, endpoint, second)
		}
	}
	if len(ports) != 2 {
		t.Fatalf("sends by gRPC port: %v, want both brokers", ports)
	}
	distinct := func(l []*rmq.MessageView) map[string]int {
		seen := map[string]int{}
		for _, m := range l {
			seen[string(m.GetBody())]++
		}
		return seen
	}
	got := receiveUntil(t, c, 20*time.Second, 40*time.Second, true, func(l []*rmq.MessageView) bool {
		return len(distinct(l)) >= n
	})
	if seen := distinct(got); len(seen) != n {
		t.Fatalf("received %d distinct of %d messages: %v", len(seen), n, seen)
	}
	t.Logf("sends by gRPC port: %v", ports)
}
