package dua

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// The SDK's metrics, under the names every dua SDK exports.
const (
	metricEmitted      = "dua_sdk_events_emitted_total"
	metricDelivered    = "dua_sdk_events_delivered_total"
	metricFailed       = "dua_sdk_delivery_failures_total"
	metricSpooled      = "dua_sdk_events_spooled_total"
	metricReplayed     = "dua_sdk_events_replayed_total"
	metricDropped      = "dua_sdk_events_dropped_total"
	metricSpoolBytes   = "dua_sdk_spool_bytes"
	metricSpoolPending = "dua_sdk_spool_pending_events"
)

type metrics struct {
	emitted, delivered, failed, spooled, replayed, dropped prometheus.Counter
	collectors                                             []prometheus.Collector
	registerer                                             prometheus.Registerer
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// newMetrics registers the SDK's metrics with r (nil: counted, not exported).
func newMetrics(r prometheus.Registerer, sp *spool) (*metrics, error) {
	m := &metrics{
		emitted:   counter(metricEmitted, "Events accepted by emit() (access events and consent changes)."),
		delivered: counter(metricDelivered, "Events Kafka acknowledged, directly or replayed from the spool."),
		failed:    counter(metricFailed, "Deliveries Kafka reported failed (the event then goes to the spool)."),
		spooled:   counter(metricSpooled, "Events written to the local spool because Kafka did not take them."),
		replayed:  counter(metricReplayed, "Spooled events delivered to Kafka by replay."),
		dropped:   counter(metricDropped, "Events lost because the spool was full or unwritable. Alert on any."),
	}
	m.collectors = []prometheus.Collector{m.emitted, m.delivered, m.failed, m.spooled, m.replayed, m.dropped,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metricSpoolBytes, Help: "Bytes the spool's segment files take."},
			func() float64 { _, b := sp.stats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metricSpoolPending, Help: "Spooled events not yet delivered."},
			func() float64 { p, _ := sp.stats(); return float64(p) }),
	}
	if r == nil {
		return m, nil
	}
	var errs []error
	for i, c := range m.collectors {
		if err := r.Register(c); err != nil {
			for _, done := range m.collectors[:i] {
				r.Unregister(done)
			}
			errs = append(errs, err)
			return nil, errors.Join(errs...)
		}
	}
	m.registerer = r
	return m, nil
}

func (m *metrics) unregister() {
	if m.registerer != nil {
		for _, c := range m.collectors {
			m.registerer.Unregister(c)
		}
	}
}
