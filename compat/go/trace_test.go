package compat

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// With traceTopicEnable the broker routes RMQ_SYS_TRACE_TOPIC (one queue) from its start. A
// producer and a consumer with the client's trace switch on store their Pub, SubBefore and
// SubAfter records there, each naming the traced message's unique id.
func TestTraceRecordsOfASendAndItsConsumptionReachTheTraceTopic(t *testing.T) {
	waitForRoute(t, "RMQ_SYS_TRACE_TOPIC", 1)
	createTopic(t, "GoTraceTopic", 1)
	trace := &primitive.TraceConfig{GroupName: "go_trace", Access: primitive.Local, NamesrvAddrs: []string{cluster.nameSrv}}
	p := newProducer(t, "PG_go_traced", producer.WithTrace(trace))
	r, err := p.SendSync(context.Background(), primitive.NewMessage("GoTraceTopic", []byte("traced")).WithKeys([]string{"trace-key"}))
	if err != nil {
		t.Fatal(err)
	}
	expectBodies(t, "traced message", consume(t, "CG_go_traced", "GoTraceTopic", all, consumer.WithTrace(trace)), []string{"traced"})
	records := consume(t, "CG_go_trace_reader", "RMQ_SYS_TRACE_TOPIC", all)
	kinds := func() map[string]bool {
		seen := map[string]bool{}
		for _, b := range records.bodies() {
			for _, rec := range strings.Split(b, "\x02") {
				if fields := strings.Split(rec, "\x01"); len(fields) > 1 && strings.Contains(rec, r.MsgID) {
					seen[fields[0]] = true
				}
			}
		}
		return seen
	}
	waitFor(t, 30*time.Second, func() bool { k := kinds(); return k["Pub"] && k["SubBefore"] && k["SubAfter"] },
		func() string {
			return "Pub, SubBefore and SubAfter records of " + r.MsgID + ", got " + strings.Join(records.bodies(), " | ")
		})
}
