package dua

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Config holds the settings of a Client. Service, SubjectKey and Brokers are required; every
// other zero value means the default written beside it.
type Config struct {
	// Service is the emitting service's code, e.g. "jalan".
	Service string
	// SubjectKey is the company-wide key subject ids are pseudonymized with (HMAC-SHA256);
	// at least 16 characters.
	SubjectKey string
	// Brokers are the Kafka bootstrap servers, host:port.
	Brokers []string
	// SpoolDir is where events wait when Kafka does not take them; one process per directory
	// (locked). Default ".dua/spool".
	SpoolDir string
	// SchemaRegistryURL, when set, makes messages carry Confluent framing with the ids a
	// Confluent-compatible schema registry gives (registered by New).
	SchemaRegistryURL string
	// ActorKind and ActorID say who accesses the data; default ActorService and Service.
	ActorKind ActorKind
	ActorID   string
	// TopicRaw and TopicConsent: default "dua.access.raw" and "dua.consent".
	TopicRaw     string
	TopicConsent string
	// SpoolMaxBytes bounds the spool (default 256 MiB; past it events are dropped and
	// counted); SpoolSegmentBytes is the size of one segment file (default 16 MiB).
	SpoolMaxBytes     int64
	SpoolSegmentBytes int64
	// DeliveryTimeout is how long Kafka may take to acknowledge an event before it goes to
	// the spool (default 30 s); replay waits as long for a batch.
	DeliveryTimeout time.Duration
	// MaxBufferedEvents are held in memory on their way to Kafka (default 65536); past it,
	// Emit writes to the spool at once: it never blocks.
	MaxBufferedEvents int
	// Registerer receives the SDK's metrics (nil: counted, not exported).
	Registerer prometheus.Registerer
	// Logger gets the SDK's warnings (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// KafkaOptions are extra franz-go options, applied after the SDK's (they win).
	KafkaOptions []kgo.Opt
	// HTTPClient talks to the schema registry (nil: a client with a 10 s timeout).
	HTTPClient *http.Client
}

func (cfg *Config) applyDefaults() error {
	if isBlank(cfg.Service) {
		return errors.New("dua: Config.Service is required")
	}
	if len([]rune(cfg.SubjectKey)) < 16 {
		return errors.New("dua: Config.SubjectKey must be at least 16 characters")
	}
	if len(cfg.Brokers) == 0 {
		return errors.New("dua: Config.Brokers is required")
	}
	set := func(p *string, def string) {
		if *p == "" {
			*p = def
		}
	}
	set(&cfg.SpoolDir, filepath.Join(".dua", "spool"))
	set((*string)(&cfg.ActorKind), string(ActorService))
	set(&cfg.ActorID, cfg.Service)
	set(&cfg.TopicRaw, "dua.access.raw")
	set(&cfg.TopicConsent, "dua.consent")
	if cfg.SpoolMaxBytes <= 0 {
		cfg.SpoolMaxBytes = 256 << 20
	}
	if cfg.SpoolSegmentBytes <= 0 {
		cfg.SpoolSegmentBytes = 16 << 20
	}
	if cfg.DeliveryTimeout <= 0 {
		cfg.DeliveryTimeout = 30 * time.Second
	}
	if cfg.MaxBufferedEvents <= 0 {
		cfg.MaxBufferedEvents = 65536
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if err := symbol(string(cfg.ActorKind), "actor.kind", actorKinds); err != nil {
		return fmt.Errorf("dua: Config.ActorKind: %w", err)
	}
	return nil
}
