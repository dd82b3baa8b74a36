// Command dua-emit-bench times the Go SDK's Emit against a raw franz-go produce of the very
// bytes it sends, on one broker: the total per event until everything is acknowledged, the
// median of several timed rounds after a warm-up round. Both clients have the SDK's producer
// settings (acks=all, idempotence, lz4, linger 5 ms).
//
// Arguments: bootstrap sdkTopic rawTopic events rounds. Prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	dua "dua"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	subjectKey = "bench-subject-key-0123456789"
	service    = "hotpepper-gourmet"
	subjects   = 5000
)

// access is one of the call sites of a service, the shapes the other SDKs' benchmarks emit.
func access(i int) dua.Access {
	subject := fmt.Sprintf("member-%05d", (i*7919)%subjects)
	switch i % 6 {
	case 0:
		return dua.Access{Elements: []string{"user.name", "user.contact.email"}, Purpose: "service.inquiry_response", Subject: subject}
	case 1:
		return dua.Access{Elements: []string{"user.account.id", "user.behavior.usage_history"}, Purpose: "service.points_program", Subject: subject}
	case 2:
		return dua.Access{Elements: []string{"user.behavior.browsing_history", "user.device.ad_id"}, Purpose: "marketing.targeted_advertising",
			Destination: dua.AdPlatform, DestinationName: "ads", Subject: subject}
	case 3:
		return dua.Access{Elements: []string{"user.behavior.usage_history", "user.behavior.browsing_history"}, Purpose: "research.profiling",
			Processing: dua.Pseudonymized, Subject: subject}
	case 4:
		return dua.Access{Elements: []string{"user.account.id", "user.content.message"}, Purpose: "service.user_messaging", Subject: subject}
	}
	return dua.Access{Elements: []string{"user.content.review"}, Purpose: "improvement.support_quality", Processing: dua.Statistical, Subject: subject}
}

// capture keeps a copy of the records the SDK's client buffers (the raw round's input).
type capture struct {
	mu      sync.Mutex
	on      bool
	topic   string
	records []*kgo.Record
}

func (c *capture) OnProduceRecordBuffered(r *kgo.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.on {
		c.records = append(c.records, &kgo.Record{Topic: c.topic, Key: r.Key, Value: r.Value})
	}
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dua-emit-bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 5 {
		return fmt.Errorf("usage: dua-emit-bench bootstrap sdkTopic rawTopic events rounds")
	}
	brokers := strings.Split(args[0], ",")
	events, err := strconv.Atoi(args[3])
	if err != nil {
		return err
	}
	rounds, err := strconv.Atoi(args[4])
	if err != nil {
		return err
	}
	accesses := make([]dua.Access, events)
	for i := range accesses {
		accesses[i] = access(i)
	}
	spool, err := os.MkdirTemp("", "dua-bench-spool-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(spool)
	ctx := context.Background()
	captured := &capture{on: true, topic: args[2]}
	client, err := dua.New(ctx, dua.Config{
		Service: service, SubjectKey: subjectKey, Brokers: brokers, TopicRaw: args[1], SpoolDir: spool,
		KafkaOptions: []kgo.Opt{kgo.WithHooks(captured)},
	})
	if err != nil {
		return err
	}
	defer client.Close(ctx)
	raw, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(65536))
	if err != nil {
		return err
	}
	defer raw.Close()

	var rawUs, sdkUs, callUs []float64
	for round := -1; round < rounds; round++ { // round -1: warm-up (metadata, ids) and the capture
		var rawPerEvent float64
		if round >= 0 {
			started := time.Now()
			if err := produceAll(ctx, raw, captured.records); err != nil {
				return err
			}
			rawPerEvent = perEvent(started, events)
		}
		started := time.Now()
		for _, a := range accesses {
			if _, err := client.Emit(a); err != nil {
				return err
			}
		}
		call := perEvent(started, events)
		flushCtx, cancel := context.WithTimeout(ctx, 120*time.Second)
		err := client.Flush(flushCtx)
		cancel()
		if err != nil || client.Spooled() != 0 {
			return fmt.Errorf("the SDK did not deliver every event directly (%v, %d spooled)", err, client.Spooled())
		}
		total := perEvent(started, events)
		if round < 0 {
			captured.mu.Lock()
			captured.on = false
			n := len(captured.records)
			captured.mu.Unlock()
			if n != events {
				return fmt.Errorf("captured %d records, want %d", n, events)
			}
			if err := produceAll(ctx, raw, captured.records); err != nil { // the raw client's warm-up
				return err
			}
			continue
		}
		rawUs, sdkUs, callUs = append(rawUs, rawPerEvent), append(sdkUs, total), append(callUs, call)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"events": events, "rounds": rounds,
		"raw_us_per_event": median(rawUs), "sdk_us_per_event": median(sdkUs), "sdk_call_us_per_event": median(callUs),
	})
}

// produceAll sends records with the raw client and waits until Kafka acknowledged them all.
func produceAll(ctx context.Context, raw *kgo.Client, records []*kgo.Record) error {
	var failed error
	var once sync.Once
	for _, r := range records {
		raw.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				once.Do(func() { failed = err })
			}
		})
	}
	if err := raw.Flush(ctx); err != nil {
		return err
	}
	if failed != nil {
		return fmt.Errorf("raw produce: %w", failed)
	}
	return nil
}

func perEvent(started time.Time, events int) float64 {
	return float64(time.Since(started).Nanoseconds()) / 1000 / float64(events)
}

func median(values []float64) float64 {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	if n := len(sorted); n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
}
