// Package compat drives our mqnamesrv + mqbroker with apache/rocketmq-client-go v2.
package compat

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/admin"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

// Level 2 is "2s" (the delay case); the others, used by retries, are 1 s.
const delayLevels = "1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"

// The cluster every test of the package uses, started by TestMain.
var cluster struct {
	dir, nameSrv, brokerAddr, brokerName string
	procs                                []*exec.Cmd
	admin                                admin.Admin
}

func TestMain(m *testing.M) {
	rlog.SetLogLevel("error")
	if err := startCluster(); err != nil {
		fmt.Fprintln(os.Stderr, "compat/go: cannot start servers:", err)
		stopCluster()
		os.Exit(1)
	}
	code := m.Run()
	stopCluster()
	os.Exit(code)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// A broker port p also needs p-2 (fast port) and p+1 (HA) free.
func freeBrokerPort() (int, error) {
	for i := 0; i < 50; i++ {
		p := 20000 + rand.Intn(30000)
		ok := true
		for _, q := range []int{p - 2, p, p + 1} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no free broker port")
}

func waitPort(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not open after 10 s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func spawn(bin, log string, args ...string) (*exec.Cmd, error) {
	build := os.Getenv("RMQ_BUILDDIR")
	if build == "" {
		build = "../../build"
	}
	out, err := os.Create(filepath.Join(cluster.dir, log))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(build, bin), args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	cluster.procs = append(cluster.procs, cmd)
	return cmd, nil
}

func startCluster() error {
	var err error
	if cluster.dir, err = os.MkdirTemp("", "rmq-compat-go-"); err != nil {
		return err
	}
	nsPort, err := freePort()
	if err != nil {
		return err
	}
	brokerPort, err := freeBrokerPort()
	if err != nil {
		return err
	}
	cluster.nameSrv = fmt.Sprintf("127.0.0.1:%d", nsPort)
	cluster.brokerAddr = fmt.Sprintf("127.0.0.1:%d", brokerPort)
	cluster.brokerName = "broker-c"
	nsConf := filepath.Join(cluster.dir, "namesrv.properties")
	if err := os.WriteFile(nsConf, []byte(fmt.Sprintf("listenPort=%d\nlistenAddress=127.0.0.1\nkvConfigPath=%s/kvConfig.json\n", nsPort, cluster.dir)), 0o644); err != nil {
		return err
	}
	if _, err := spawn("mqnamesrv", "namesrv.log", "-c", nsConf); err != nil {
		return err
	}
	if err := waitPort(cluster.nameSrv); err != nil {
		return err
	}
	brokerConf := filepath.Join(cluster.dir, "broker.conf")
	conf := fmt.Sprintf("brokerClusterName=DefaultCluster\nbrokerName=%s\nbrokerId=0\nbrokerIP1=127.0.0.1\n"+
		"listenAddress=127.0.0.1\nlistenPort=%d\nstorePathRootDir=%s/store\nmappedFileSizeCommitLog=67108864\n"+
		"flushDiskType=ASYNC_FLUSH\nenablePropertyFilter=true\nmessageDelayLevel=%s\n"+
		"transactionTimeOut=1000\ntransactionCheckInterval=1000\ntraceTopicEnable=true\n", cluster.brokerName, brokerPort, cluster.dir, delayLevels)
	if err := os.WriteFile(brokerConf, []byte(conf), 0o644); err != nil {
		return err
	}
	if _, err := spawn("mqbroker", "broker.log", "-c", brokerConf, "-n", cluster.nameSrv); err != nil {
		return err
	}
	if err := waitPort(cluster.brokerAddr); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // the broker registers with the name server right after it listens
	cluster.admin, err = admin.NewAdmin(admin.WithResolver(primitive.NewPassthroughResolver([]string{cluster.nameSrv})))
	return err
}

func stopCluster() {
	if cluster.admin != nil {
		cluster.admin.Close()
	}
	for i := len(cluster.procs) - 1; i >= 0; i-- {
		p := cluster.procs[i]
		p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			p.Process.Kill()
		}
	}
	if cluster.dir != "" {
		os.RemoveAll(cluster.dir)
	}
}

// createTopic creates topic with the given queues on our broker and waits for its route.
func createTopic(t *testing.T, topic string, queues int) {
	t.Helper()
	err := cluster.admin.CreateTopic(context.Background(), admin.WithTopicCreate(topic), admin.WithBrokerAddrCreate(cluster.brokerAddr),
		admin.WithReadQueueNums(queues), admin.WithWriteQueueNums(queues))
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	waitForRoute(t, topic, queues)
}

// waitForRoute waits until the name server routes topic with the given number of queues.
func waitForRoute(t *testing.T, topic string, queues int) {
	t.Helper()
	waitFor(t, 10*time.Second, func() bool {
		mqs, err := cluster.admin.FetchPublishMessageQueues(context.Background(), topic)
		return err == nil && len(mqs) == queues
	}, func() string { return fmt.Sprintf("a route of %s with %d queues", topic, queues) })
}

func waitFor(t *testing.T, d time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var instances = struct {
	sync.Mutex
	n int
}{}

// uniqueName gives each client its own instance name: the Go client shares one
// client per instance name, and two consumers of one group must not share it. The
// process id keeps a broadcasting consumer from reading the offsets a former run
// left in its local offset file (named after the client id), which our fresh
// broker would answer with OFFSET_MOVED.
func uniqueName(prefix string) string {
	instances.Lock()
	defer instances.Unlock()
	instances.n++
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), instances.n)
}

func newProducer(t *testing.T, group string, opts ...producer.Option) rocketmq.Producer {
	t.Helper()
	opts = append([]producer.Option{
		producer.WithNameServer(primitive.NamesrvAddr{cluster.nameSrv}),
		producer.WithGroupName(group), producer.WithInstanceName(uniqueName(group)), producer.WithRetry(2),
	}, opts...)
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Shutdown() })
	return p
}

func newPushConsumer(t *testing.T, group string, opts ...consumer.Option) rocketmq.PushConsumer {
	t.Helper()
	opts = append([]consumer.Option{
		consumer.WithNameServer(primitive.NamesrvAddr{cluster.nameSrv}),
		consumer.WithGroupName(group), consumer.WithInstance(uniqueName(group)),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}, opts...)
	c, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Shutdown() })
	return c
}

// recorder is a thread-safe list of delivered messages.
type recorder struct {
	sync.Mutex
	msgs []*primitive.MessageExt
}

func (r *recorder) add(msgs ...*primitive.MessageExt) {
	r.Lock()
	r.msgs = append(r.msgs, msgs...)
	r.Unlock()
}

func (r *recorder) bodies() []string {
	r.Lock()
	defer r.Unlock()
	out := make([]string, 0, len(r.msgs))
	for _, m := range r.msgs {
		out = append(out, string(m.Body))
	}
	return out
}

func (r *recorder) messages() []*primitive.MessageExt {
	r.Lock()
	defer r.Unlock()
	return append([]*primitive.MessageExt(nil), r.msgs...)
}

func (r *recorder) len() int {
	r.Lock()
	defer r.Unlock()
	return len(r.msgs)
}

// consume subscribes a new push consumer of group to topic and records what it gets.
func consume(t *testing.T, group, topic string, sel consumer.MessageSelector, opts ...consumer.Option) *recorder {
	t.Helper()
	_, rec := startConsumer(t, group, topic, sel, opts...)
	return rec
}

// startConsumer is consume for a test that also shuts the consumer down itself.
func startConsumer(t *testing.T, group, topic string, sel consumer.MessageSelector, opts ...consumer.Option) (rocketmq.PushConsumer, *recorder) {
	t.Helper()
	rec := &recorder{}
	c := newPushConsumer(t, group, opts...)
	err := c.Subscribe(topic, sel, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		rec.add(msgs...)
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c, rec
}

var all = consumer.MessageSelector{Type: consumer.TAG, Expression: "*"}
