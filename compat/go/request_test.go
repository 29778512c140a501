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
	err := c.Subscribe("GoRequestTopic", all, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		for _, m := range msgs {
			reply, err := consumer.CreateReplyMessage(m, append([]byte("re: "), m.Body...))
			if err != nil {
				return consumer.ConsumeRetryLater, err
			}
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
	time.Sleep(2 * time.Second) // the responder owns its queues before the request goes out
	requester := newProducer(t, "PG_go_requester")
	reply, err := requester.Request(context.Background(), 10*time.Second, primitive.NewMessage("GoRequestTopic", []byte("ping")))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if string(reply.Body) != "re: ping" {
		t.Fatalf("expected reply %q, got %q", "re: ping", reply.Body)
	}
}
