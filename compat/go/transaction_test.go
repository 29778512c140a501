package compat

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
)

// txListener decides by body: "commit" and "rollback" end locally; "unknown-then-commit" and
// "unknown-then-rollback" stay unknown until the broker's check-back, which settles them.
type txListener struct {
	sync.Mutex
	checked []string
}

func (l *txListener) ExecuteLocalTransaction(m *primitive.Message) primitive.LocalTransactionState {
	switch string(m.Body) {
	case "commit":
		return primitive.CommitMessageState
	case "rollback":
		return primitive.RollbackMessageState
	}
	return primitive.UnknowState
}

func (l *txListener) CheckLocalTransaction(m *primitive.MessageExt) primitive.LocalTransactionState {
	l.Lock()
	l.checked = append(l.checked, string(m.Body))
	l.Unlock()
	if string(m.Body) == "unknown-then-rollback" {
		return primitive.RollbackMessageState
	}
	return primitive.CommitMessageState
}

func (l *txListener) checkedBodies() []string {
	l.Lock()
	defer l.Unlock()
	return append([]string(nil), l.checked...)
}

func TestTransactionsCommitRollbackAndCheckBack(t *testing.T) {
	createTopic(t, "GoTxTopic", 2)
	l := &txListener{}
	p, err := rocketmq.NewTransactionProducer(l,
		producer.WithNameServer(primitive.NamesrvAddr{cluster.nameSrv}),
		producer.WithGroupName("PG_go_tx"), producer.WithInstanceName(uniqueName("PG_go_tx")))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown() })
	rec := consume(t, "CG_go_tx", "GoTxTopic", all)
	states := map[string]primitive.LocalTransactionState{}
	for _, body := range []string{"commit", "rollback", "unknown-then-commit", "unknown-then-rollback"} {
		r, err := p.SendMessageInTransaction(context.Background(), primitive.NewMessage("GoTxTopic", []byte(body)))
		if err != nil || r.Status != primitive.SendOK {
			t.Fatalf("expected the half message of %q stored (SEND_OK), got %v, %v", body, r, err)
		}
		states[body] = r.State
	}
	if states["commit"] != primitive.CommitMessageState || states["rollback"] != primitive.RollbackMessageState ||
		states["unknown-then-commit"] != primitive.UnknowState {
		t.Fatalf("unexpected local states %v", states)
	}
	// transactionTimeOut / transactionCheckInterval are 1 s in the broker config.
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= 2 },
		func() string { return fmt.Sprintf("commit + checked-back commit, got %q", rec.bodies()) })
	waitFor(t, 30*time.Second, func() bool { return contains(l.checkedBodies(), "unknown-then-rollback") },
		func() string { return fmt.Sprintf("a check-back of unknown-then-rollback, got %q", l.checkedBodies()) })
	time.Sleep(time.Second) // a wrongly committed unknown-then-rollback would be delivered by now
	expectBodies(t, "transactions", rec, []string{"commit", "unknown-then-commit"})
	for _, b := range l.checkedBodies() {
		if b != "unknown-then-commit" && b != "unknown-then-rollback" {
			t.Fatalf("expected check-backs for the unknown messages only, got %q", l.checkedBodies())
		}
	}
	if !contains(l.checkedBodies(), "unknown-then-commit") {
		t.Fatalf("unknown-then-commit was delivered without a check-back: %q", l.checkedBodies())
	}
}
