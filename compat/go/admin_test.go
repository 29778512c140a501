package compat

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/primitive"
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// admin.CreateTopic on our broker: the name server routes the topic with its three queues,
// a producer sends to it at once, and admin.DeleteTopic removes it again.
func TestAdminCreatesListsAndDeletesTopics(t *testing.T) {
	ctx := context.Background()
	createTopic(t, "GoAdminTopic", 3)
	list, err := cluster.admin.FetchAllTopicList(ctx)
	if err != nil || !contains(list.TopicList, "GoAdminTopic") {
		t.Fatalf("expected GoAdminTopic in the topic list, got %v, %v", list, err)
	}
	mqs, err := cluster.admin.FetchPublishMessageQueues(ctx, "GoAdminTopic")
	if err != nil {
		t.Fatal(err)
	}
	for _, mq := range mqs {
		if mq.BrokerName != cluster.brokerName || mq.QueueId < 0 || mq.QueueId > 2 {
			t.Fatalf("expected queues 0..2 on %s, got %v", cluster.brokerName, mqs)
		}
	}
	p := newProducer(t, "PG_go_admin")
	seen := map[int]bool{}
	for i := 0; i < 6; i++ {
		r, err := p.SendSync(ctx, primitive.NewMessage("GoAdminTopic", []byte(fmt.Sprintf("admin-%d", i))))
		if err != nil || r.Status != primitive.SendOK {
			t.Fatalf("expected SEND_OK on the created topic, got %v, %v", r, err)
		}
		seen[r.MessageQueue.QueueId] = true
	}
	if len(seen) != 3 {
		t.Fatalf("expected the producer to round-robin over the 3 created queues, used %v", seen)
	}
	err = cluster.admin.DeleteTopic(ctx, admin.WithTopicDelete("GoAdminTopic"),
		admin.WithBrokerAddrDelete(cluster.brokerAddr), admin.WithNameSrvAddr([]string{cluster.nameSrv}))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		list, err := cluster.admin.FetchAllTopicList(ctx)
		return err == nil && !contains(list.TopicList, "GoAdminTopic")
	}, func() string { return "GoAdminTopic gone from the topic list" })
}

func TestAdminListsSubscriptionGroupsOfTheBroker(t *testing.T) {
	createTopic(t, "GoGroupTopic", 1)
	consume(t, "CG_go_listed", "GoGroupTopic", all) // the heartbeat auto-creates the group
	waitFor(t, 10*time.Second, func() bool {
		w, err := cluster.admin.GetAllSubscriptionGroup(context.Background(), cluster.brokerAddr, 3*time.Second)
		if err != nil {
			return false
		}
		_, ok := w.SubscriptionGroupTable["CG_go_listed"]
		return ok
	}, func() string { return "CG_go_listed in the subscription group table" })
}
