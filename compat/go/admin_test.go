package compat

import (
	"context"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/admin"
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAdminCreatesListsAndDeletesTopics(t *testing.T) {
	ctx := context.Background()
	createTopic(t, "GoAdminTopic", 3)
	list, err := cluster.admin.FetchAllTopicList(ctx)
	if err != nil || !contains(list.TopicList, "GoAdminTopic") {
		t.Fatalf("expected GoAdminTopic in the topic list, got %v, %v", list, err)
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
