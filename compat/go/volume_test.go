package compat

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2/primitive"
)

// A 3 MiB body that does not compress (under the broker's 4 MiB maxMessageSize) comes back
// to the consumer byte for byte.
func TestALargeIncompressibleBodyComesBackWhole(t *testing.T) {
	createTopic(t, "GoLargeTopic", 1)
	body := make([]byte, 3<<20)
	rand.New(rand.NewSource(1)).Read(body)
	p := newProducer(t, "PG_go_large")
	if r, err := p.SendSync(context.Background(), primitive.NewMessage("GoLargeTopic", body)); err != nil || r.Status != primitive.SendOK {
		t.Fatalf("expected SEND_OK for 3 MiB, got %v, %v", r, err)
	}
	rec := consume(t, "CG_go_large", "GoLargeTopic", all)
	waitFor(t, 30*time.Second, func() bool { return rec.len() >= 1 }, func() string { return "the 3 MiB message" })
	if got := rec.messages()[0].Body; !bytes.Equal(got, body) {
		t.Fatalf("expected the 3 MiB body back, got %d bytes", len(got))
	}
}

// 1000 asynchronous sends over four queues: every callback says SEND_OK and a consumer
// gets each message exactly once.
func TestAThousandAsyncSendsAreConsumedOnceEach(t *testing.T) {
	createTopic(t, "GoVolumeTopic", 4)
	p := newProducer(t, "PG_go_volume")
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	want := make([]string, n)
	for i := 0; i < n; i++ {
		want[i] = fmt.Sprintf("volume-%04d", i)
		wg.Add(1)
		err := p.SendAsync(context.Background(), func(ctx context.Context, r *primitive.SendResult, err error) {
			defer wg.Done()
			if err == nil && r.Status != primitive.SendOK {
				err = fmt.Errorf("status %v", r.Status)
			}
			if err != nil {
				errs <- err
			}
		}, primitive.NewMessage("GoVolumeTopic", []byte(want[i])))
		if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("not every async send called back within 30 s")
	}
	close(errs)
	for err := range errs {
		t.Fatalf("async send: %v", err)
	}
	expectBodies(t, "volume", consume(t, "CG_go_volume", "GoVolumeTopic", all), want)
}
