package dua

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Delivery: live, records go to franz-go; one it refuses or fails goes to the spool and
// switches to spooling. Spooling: records go to the spool behind the ones there while one
// goroutine replays it; once it is empty, live again.

func (c *Client) send(topic string, key, value []byte) {
	c.mu.Lock()
	if c.spooling {
		c.toSpool(topic, key, value)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.kafka.TryProduce(context.Background(), &kgo.Record{Topic: topic, Key: key, Value: value}, c.delivered)
}

// delivered is the promise of every live record (called serially by franz-go).
func (c *Client) delivered(r *kgo.Record, err error) {
	if err == nil {
		c.metrics.delivered.Inc()
		return
	}
	c.metrics.failed.Inc()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.spooling {
		c.spooling = true
		c.log.Warn("dua: audit events go to the spool until Kafka takes them again", "reason", err)
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	c.toSpool(r.Topic, r.Key, r.Value)
}

func (c *Client) toSpool(topic string, key, value []byte) {
	if c.spool.append(topic, key, value) {
		c.metrics.spooled.Inc()
		return
	}
	c.metrics.dropped.Inc()
	c.log.Error("dua: DROPPED an audit event: the spool is full or unwritable and Kafka does not take it")
}

// replay runs until ctx ends: while spooling, it sends the spool's oldest records to Kafka,
// batch by batch, and goes live again once the spool is empty.
func (c *Client) replay(ctx context.Context) {
	defer close(c.done)
	backoff := 100 * time.Millisecond
	for {
		c.mu.Lock()
		spooling := c.spooling
		c.mu.Unlock()
		var wait <-chan time.Time
		if spooling {
			if c.replayBatch(ctx) {
				backoff = 100 * time.Millisecond
				if ctx.Err() != nil {
					return
				}
				continue
			}
			wait = time.After(backoff)
			backoff = min(backoff*2, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-wait:
		}
	}
}

// replayBatch sends one batch of spooled records and waits for them; true on progress.
func (c *Client) replayBatch(ctx context.Context) bool {
	batch, err := c.spool.next(500)
	if err != nil {
		c.log.Warn("dua: cannot read the spool", "error", err)
		return false
	}
	if batch == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if pending, _ := c.spool.stats(); pending == 0 {
			c.spooling = false
			c.log.Info("dua: the audit spool is empty: events go to Kafka directly again")
		}
		return true
	}
	records := make([]*kgo.Record, len(batch.records))
	for i, r := range batch.records {
		records[i] = &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value}
	}
	sendCtx, cancel := context.WithTimeout(ctx, c.cfg.DeliveryTimeout)
	results := c.kafka.ProduceSync(sendCtx, records...)
	cancel()
	// Kafka orders per partition only: a failed record may sit before delivered ones. Those
	// failed ones go back to the spool's tail and the batch is settled up to the last
	// delivered record, so none is sent twice.
	last := -1
	for i, res := range results {
		if res.Err == nil {
			last = i
		}
	}
	delivered := 0
	for _, res := range results[:last+1] {
		if res.Err == nil {
			delivered++
			continue
		}
		if !c.spool.append(res.Record.Topic, res.Record.Key, res.Record.Value) {
			c.metrics.dropped.Inc()
			c.log.Error("dua: DROPPED an audit event: the spool is full or unwritable and Kafka does not take it")
		}
	}
	if err := c.spool.settle(batch, last+1); err != nil {
		c.log.Warn("dua: cannot write the spool's ack cursor", "error", err)
	}
	c.metrics.delivered.Add(float64(delivered))
	c.metrics.replayed.Add(float64(delivered))
	return delivered > 0
}
