package compat

import (
	"context"
	"testing"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// A client namespace prefixes topics and groups with "ns%": the broker takes such names
// (Apache's topic characters include '%'); this client hands the consumer the full name.
func TestANamespacedProducerAndConsumerMeet(t *testing.T) {
	createTopic(t, "go_ns%GoNsTopic", 2)
	p := newProducer(t, "PG_go_ns", producer.WithNamespace("go_ns"))
	r, err := p.SendSync(context.Background(), primitive.NewMessage("GoNsTopic", []byte("namespaced")))
	if err != nil || r.Status != primitive.SendOK {
		t.Fatalf("expected SEND_OK in the namespace, got %v, %v", r, err)
	}
	rec := consume(t, "CG_go_ns", "GoNsTopic", all, consumer.WithNamespace("go_ns"))
	expectBodies(t, "namespaced", rec, []string{"namespaced"})
	if m := rec.messages()[0]; m.Topic != "go_ns%GoNsTopic" {
		t.Fatalf("expected the consumer to see topic go_ns%%GoNsTopic, got %q", m.Topic)
	}
}
