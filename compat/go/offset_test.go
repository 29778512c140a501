package compat

import (
	"context"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// A member commits its offsets when it shuts down; a member of the same group started
// afterwards resumes there (its ConsumeFromFirstOffset applies only without a committed
// offset) and owns every queue, since the first one unregistered.
func TestANewMemberResumesFromTheCommittedOffsets(t *testing.T) {
	createTopic(t, "GoResumeTopic", 2)
	first := sendBodies(t, "PG_go_resume", "GoResumeTopic", "T", "first", 6)
	a, rec := startConsumer(t, "CG_go_resume", "GoResumeTopic", all)
	expectBodies(t, "first member", rec, first)
	a.Shutdown()
	second := sendBodies(t, "PG_go_resume", "GoResumeTopic", "T", "second", 6)
	expectBodies(t, "second member", consume(t, "CG_go_resume", "GoResumeTopic", all), second)
}

// admin.CreateTopic with a read-only permission: the route carries it, so the producer
// finds no queue to write to.
func TestAReadOnlyTopicTakesNoSends(t *testing.T) {
	ctx := context.Background()
	err := cluster.admin.CreateTopic(ctx, admin.WithTopicCreate("GoReadOnlyTopic"), admin.WithBrokerAddrCreate(cluster.brokerAddr),
		admin.WithReadQueueNums(2), admin.WithWriteQueueNums(2), admin.WithPerm(4))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		list, err := cluster.admin.FetchAllTopicList(ctx)
		return err == nil && contains(list.TopicList, "GoReadOnlyTopic")
	}, func() string { return "GoReadOnlyTopic in the topic list" })
	if mqs, err := cluster.admin.FetchPublishMessageQueues(ctx, "GoReadOnlyTopic"); err != nil || len(mqs) != 0 {
		t.Fatalf("expected a route without writable queues, got %v, %v", mqs, err)
	}
	p := newProducer(t, "PG_go_readonly")
	if r, err := p.SendSync(ctx, primitive.NewMessage("GoReadOnlyTopic", []byte("refused"))); err == nil {
		t.Fatalf("expected the send to a read-only topic to fail, got %v", r)
	}
}
