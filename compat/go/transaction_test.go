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

// txListener decides by body: the body names the local transaction's outcome.
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
	return primitive.CommitMessageState
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
	for _, body := range []string{"commit", "rollback", "unknown"} {
		if _, err := p.SendMessageInTransaction(context.Background(), primitive.NewMessage("GoTxTopic", []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	// transactionTimeOut / transactionCheckInterval are 1 s in the broker config.
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= 2 },
		func() string { return fmt.Sprintf("commit + checked-back unknown, got %q", rec.bodies()) })
	expectBodies(t, "transactions", rec, []string{"commit", "unknown"})
	l.Lock()
	defer l.Unlock()
	for _, b := range l.checked {
		if b != "unknown" {
			t.Fatalf("expected check-back for the unknown message only, got %q", l.checked)
		}
	}
}
