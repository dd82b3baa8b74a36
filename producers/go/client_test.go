package dua

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const testKey = "test-subject-key-0123456789"

// fakeBroker starts an in-process Kafka (kfake) with the SDK's topics.
func fakeBroker(t *testing.T) *kfake.Cluster {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "dua.access.raw", "dua.consent"),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster
}

func newClient(t *testing.T, cluster *kfake.Cluster, dir string, tweak func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Service:         "jalan",
		SubjectKey:      testKey,
		Brokers:         cluster.ListenAddrs(),
		SpoolDir:        dir,
		DeliveryTimeout: 2 * time.Second,
		Now:             func() time.Time { return time.UnixMilli(1_793_527_200_000) },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// consume reads want records of topic from the cluster (failing after 15 s).
func consume(t *testing.T, cluster *kfake.Cluster, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want && ctx.Err() == nil {
		fetches := cl.PollFetches(ctx)
		fetches.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	// anything beyond want would be a duplicate: give it a moment to show up
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	cl.PollFetches(short).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	if len(out) != want {
		t.Fatalf("consumed %d records from %s, want %d", len(out), topic, want)
	}
	return out
}

func decodeAll(t *testing.T, records []*kgo.Record) map[string]map[string]any {
	t.Helper()
	byID := map[string]map[string]any{}
	for _, r := range records {
		e, err := decode(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		byID[e["event_id"].(string)] = e
	}
	return byID
}

// TestEmitDelivers checks that N emitted events reach Kafka once each, keyed by pseudonym,
// with the fields given and the contract's defaults.
func TestEmitDelivers(t *testing.T) {
	cluster := fakeBroker(t)
	reg := prometheus.NewRegistry()
	c := newClient(t, cluster, t.TempDir(), func(cfg *Config) { cfg.Registerer = reg })
	const n = 200
	for i := range n {
		_, err := c.Emit(Access{
			Elements:   []string{"user.account.id", "user.behavior.usage_history"},
			Purpose:    "service.points_program",
			Subject:    fmt.Sprintf("user-%d", i),
			Attributes: map[string]string{"b": "2", "a": "1"},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	events := decodeAll(t, consume(t, cluster, "dua.access.raw", n))
	if len(events) != n {
		t.Fatalf("%d distinct event ids, want %d", len(events), n)
	}
	p, _ := c.Pseudonym("user-7")
	for _, e := range events {
		if e["subject_id"] == p {
			if e["operation"] != "READ" || e["processing"] != "RAW" || e["record_count"] != int64(1) ||
				e["occurred_at"] != int64(1_793_527_200_000) || e["service"] != "jalan" {
				t.Fatalf("unexpected event %v", e)
			}
			if got := testutil.ToFloat64(c.metrics.delivered); got != n {
				t.Fatalf("delivered counter %v, want %d", got, n)
			}
			return
		}
	}
	t.Fatal("no event for user-7")
}

// TestEmitRefusesInvalidEvents checks that an invalid event is an *InvalidEventError naming
// the field, and that nothing is sent.
func TestEmitRefusesInvalidEvents(t *testing.T) {
	c := newClient(t, fakeBroker(t), t.TempDir(), nil)
	cases := map[string]Access{
		"elements/empty":            {Purpose: "service.points_program"},
		"subject/wrong_type":        {Elements: []string{"user.name"}, Subject: 1.5},
		"operation/not_symbol":      {Elements: []string{"user.name"}, Operation: "READS"},
		"record_count/out_of_range": {Elements: []string{"user.name"}, RecordCount: 1 << 31},
		"purpose/empty":             {Elements: []string{"user.name"}, Purpose: " "},
		"event_id/not_uuid":         {Elements: []string{"user.name"}, EventID: "x"},
	}
	for want, a := range cases {
		_, err := c.Emit(a)
		var ie *InvalidEventError
		if !errors.As(err, &ie) || ie.Field+"/"+ie.Code != want {
			t.Errorf("got %v, want %s", err, want)
		}
	}
	if got := testutil.ToFloat64(c.metrics.emitted); got != 0 {
		t.Fatalf("emitted counter %v after invalid events only", got)
	}
}

// TestOutageSpoolsThenDeliversOnce checks that events Kafka refuses go to the spool and are
// delivered exactly once when it takes them again.
func TestOutageSpoolsThenDeliversOnce(t *testing.T) {
	cluster := fakeBroker(t)
	c := newClient(t, cluster, t.TempDir(), func(cfg *Config) { cfg.DeliveryTimeout = time.Second })
	var refusing atomic.Bool
	refusing.Store(true)
	cluster.ControlKey(int16(kmsg.Produce), refuseProduce(cluster, &refusing))
	const n = 50
	for range n {
		if _, err := c.Emit(Access{Elements: []string{"user.name"}, Subject: 42}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return c.Spooled() == n }, "all events in the spool")
	refusing.Store(false)
	waitFor(t, func() bool { return c.Spooled() == 0 }, "the spool replayed")
	events := decodeAll(t, consume(t, cluster, "dua.access.raw", n))
	if len(events) != n {
		t.Fatalf("%d distinct events, want %d", len(events), n)
	}
	if got := testutil.ToFloat64(c.metrics.replayed); got != n {
		t.Fatalf("replayed counter %v, want %d", got, n)
	}
	// live again: a new event goes straight to Kafka
	if _, err := c.Emit(Access{Elements: []string{"user.name"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	consume(t, cluster, "dua.access.raw", n+1)
}

// refuseProduce answers every produce request with a retriable error (NOT_ENOUGH_REPLICAS):
// the broker is there but does not take the records, so the client knows they were not written,
// while refusing is true.
func refuseProduce(cluster *kfake.Cluster, refusing *atomic.Bool) func(kmsg.Request) (kmsg.Response, error, bool) {
	return func(r kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		if !refusing.Load() {
			return nil, nil, false
		}
		req := r.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, topic := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic, rt.TopicID = topic.Topic, topic.TopicID
			for _, partition := range topic.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = partition.Partition, 19
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	}
}

// TestSpoolReplayedOnStart checks that events a closed client left in the spool are
// delivered by the next client on the same directory.
func TestSpoolReplayedOnStart(t *testing.T) {
	dir := t.TempDir()
	down := newClient(t, fakeBroker(t), dir, func(cfg *Config) {
		cfg.Brokers = []string{"127.0.0.1:1"} // nothing listens there
		cfg.DeliveryTimeout = time.Second
	})
	for range 10 {
		if _, err := down.Emit(Access{Elements: []string{"user.name"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := down.EmitConsent(Consent{Subject: "user-1", TargetingOptOut: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	down.Close(ctx)
	if got := countSpooled(t, dir); got != 11 {
		t.Fatalf("%d records in the spool files after close, want 11", got)
	}
	if _, err := down.Emit(Access{Elements: []string{"user.name"}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("emit after close: %v", err)
	}
	cluster := fakeBroker(t)
	up := newClient(t, cluster, dir, nil)
	consume(t, cluster, "dua.access.raw", 10)
	consent := consume(t, cluster, "dua.consent", 1)
	if e, err := decode(consent[0].Value); err != nil || e["targeting_opt_out"] != true {
		t.Fatalf("consent %v, %v", e, err)
	}
	waitFor(t, func() bool { return up.Spooled() == 0 }, "the spool settled")
	up.Close(context.Background())
	if left, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(left) != 0 {
		t.Fatalf("segments left after replay: %v", left)
	}
}

func countSpooled(t *testing.T, dir string) int {
	t.Helper()
	segments, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	n := 0
	for _, s := range segments {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		records, _ := scanSegment(data, 0)
		n += len(records)
	}
	return n
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSpoolDirectoryIsLocked checks that a second client, and a Python process holding
// fcntl.lockf, keep a client off a spool directory that is in use.
func TestSpoolDirectoryIsLocked(t *testing.T) {
	cluster := fakeBroker(t)
	dir := t.TempDir()
	first := newClient(t, cluster, dir, nil)
	_, err := New(context.Background(), Config{Service: "jalan", SubjectKey: testKey, Brokers: cluster.ListenAddrs(), SpoolDir: dir})
	if !errors.Is(err, ErrSpoolLocked) {
		t.Fatalf("second client on one directory: %v", err)
	}
	first.Close(context.Background())

	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the cross-language lock check needs it")
	}
	holder := exec.Command(python, "-c", `import fcntl, sys
f = open(sys.argv[1], "a+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
sys.stdin.read()`, filepath.Join(dir, "spool.lock"))
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); holder.Wait() }()
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "locked" {
		t.Fatalf("python did not take the lock: %q %v", buf, err)
	}
	_, err = New(context.Background(), Config{Service: "jalan", SubjectKey: testKey, Brokers: cluster.ListenAddrs(), SpoolDir: dir})
	if !errors.Is(err, ErrSpoolLocked) {
		t.Fatalf("client beside a python lockf holder: %v", err)
	}
}

// TestConfluentFraming checks that with a schema registry the SDK registers both schemas
// and frames messages with the ids it got.
func TestConfluentFraming(t *testing.T) {
	var subjects []string
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		subjects = append(subjects, r.URL.Path)
		id := 7
		if strings.Contains(r.URL.Path, "ConsentChange") {
			id = 8
		}
		fmt.Fprintf(w, `{"id":%d}`, id)
	}))
	defer registry.Close()
	cluster := fakeBroker(t)
	c := newClient(t, cluster, t.TempDir(), func(cfg *Config) { cfg.SchemaRegistryURL = registry.URL })
	if _, err := c.Emit(Access{Elements: []string{"user.name"}}); err != nil {
		t.Fatal(err)
	}
	c.Flush(context.Background())
	r := consume(t, cluster, "dua.access.raw", 1)[0]
	if got := fmt.Sprintf("%x", r.Value[:5]); got != "0000000007" {
		t.Fatalf("header %s", got)
	}
	if strings.Join(subjects, " ") != "/subjects/dua.audit.DataAccessEvent/versions /subjects/dua.audit.ConsentChange/versions" {
		t.Fatalf("registered %v", subjects)
	}
}

// TestConfigRequired checks that New names a missing required setting.
func TestConfigRequired(t *testing.T) {
	for _, cfg := range []Config{
		{SubjectKey: testKey, Brokers: []string{"127.0.0.1:1"}},
		{Service: "jalan", SubjectKey: "short", Brokers: []string{"127.0.0.1:1"}},
		{Service: "jalan", SubjectKey: testKey},
		{Service: "jalan", SubjectKey: testKey, Brokers: []string{"127.0.0.1:1"}, ActorKind: "ROBOT"},
	} {
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("New accepted %+v", cfg)
		}
	}
}
