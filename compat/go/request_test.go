package compat

import (
	"context"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

func TestRequestGetsTheReplyTheConsumerSends(t *testing.T) {
	createTopic(t, "GoRequestTopic", 2)
	replier := newProducer(t, "PG_go_replier")
	c := newPushConsumer(t, "CG_go_request", consumer.WithConsumeFromWhere(consumer.ConsumeFromLastOffset))
	err := c.Subscribe("GoRequestTopic", consumer.MessageSelector{Type: consumer.TAG, Expression: "ping"}, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			// v2.1.2's CreateReplyMessage parses its body argument as properties and
			// leaves the reply's body empty, so the body is set here.
			reply, err := consumer.CreateReplyMessage(m, nil)
			if err != nil {
				return consumer.ConsumeRetryLater, err
			}
			reply.Body = append([]byte("re: "), m.Body...)
			if _, err := replier.SendSync(ctx, reply); err != nil {
				return consumer.ConsumeRetryLater, err
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
	// The broker pushes the reply over the connection of the requester's last heartbeat. This
	// client heartbeats 1 s after its start (to the brokers it knows by then) and every 30 s, and
	// Request adds one only when the topic has no route on the name server, so the requester
	// learns the broker with a first send (a tag the responder does not take) before that 1 s.
	requester := newProducer(t, "PG_go_requester")
	if _, err := requester.SendSync(context.Background(), primitive.NewMessage("GoRequestTopic", []byte("warm-up")).WithTag("warmup")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the heartbeat went out and the responder owns its queues
	reply, err := requester.Request(context.Background(), 10*time.Second, primitive.NewMessage("GoRequestTopic", []byte("ping")).WithTag("ping"))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if string(reply.Body) != "re: ping" {
		t.Fatalf("expected reply %q, got %q", "re: ping", reply.Body)
	}
}
