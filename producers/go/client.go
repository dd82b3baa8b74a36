package dua

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrClosed is returned by Emit and EmitConsent after Close.
var ErrClosed = errors.New("dua: the audit client is closed; emit before Close")

// Client reports accesses to personal data and consent changes to the audit pipeline. Make one
// per process at start-up with New and Close it at shutdown; its methods are safe for
// concurrent use.
//
// Emit validates, pseudonymizes the subject, encodes and hands the event to Kafka without
// waiting; what Kafka does not take goes to the spool directory and is replayed, also on the
// next start.
type Client struct {
	cfg           Config
	pseudonyms    pseudonyms
	accessHeader  []byte
	consentHeader []byte
	kafka         *kgo.Client
	spool         *spool
	metrics       *metrics
	log           *slog.Logger

	mu       sync.Mutex // orders spool appends against leaving spooling mode
	spooling bool
	closed   atomic.Bool
	wake     chan struct{}
	stop     context.CancelFunc
	done     chan struct{}
}

// New makes a client: it checks cfg, takes the spool directory, registers the schemas when a
// registry is configured (bounded by ctx) and starts replaying what an earlier run spooled.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:           cfg,
		pseudonyms:    pseudonyms{key: []byte(cfg.SubjectKey)},
		accessHeader:  singleObjectHeader(dataAccessEventFingerprint),
		consentHeader: singleObjectHeader(consentChangeFingerprint),
		log:           cfg.Logger,
		wake:          make(chan struct{}, 1),
		done:          make(chan struct{}),
	}
	if cfg.SchemaRegistryURL != "" {
		for _, h := range []struct {
			record string
			header *[]byte
		}{{"DataAccessEvent", &c.accessHeader}, {"ConsentChange", &c.consentHeader}} {
			id, err := registerSchema(ctx, cfg.HTTPClient, cfg.SchemaRegistryURL, "dua.audit."+h.record, schemaText(h.record))
			if err != nil {
				return nil, err
			}
			*h.header = confluentHeader(id)
		}
	}
	sp, err := openSpool(cfg.SpoolDir, cfg.SpoolMaxBytes, cfg.SpoolSegmentBytes)
	if err != nil {
		return nil, err
	}
	c.spool = sp
	if c.metrics, err = newMetrics(cfg.Registerer, sp); err != nil {
		sp.close()
		return nil, err
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID("dua-producer." + cfg.Service),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		kgo.MaxBufferedRecords(cfg.MaxBufferedEvents),
		// An event Kafka has not acknowledged within DeliveryTimeout goes to the spool even
		// when its request was in flight (as the Java and Python SDKs do): without this,
		// franz-go holds such records in memory until the broker answers, where a kill
		// would lose them. The price: an event the broker wrote but did not acknowledge
		// before it went away is sent again by replay.
		kgo.AllowIdempotentProduceCancellation(),
	}, cfg.KafkaOptions...)
	if c.kafka, err = kgo.NewClient(opts...); err != nil {
		c.metrics.unregister()
		sp.close()
		return nil, err
	}
	pending, _ := sp.stats()
	c.spooling = pending > 0 // left-overs of an earlier run go first
	replayCtx, stop := context.WithCancel(context.Background())
	c.stop = stop
	go c.replay(replayCtx)
	return c, nil
}

// Emit reports one access and returns its event id. It returns an *InvalidEventError for an
// event that breaks the contract, before anything is sent, and ErrClosed after Close; it
// never waits for Kafka.
func (c *Client) Emit(a Access) (string, error) {
	if c.closed.Load() {
		return "", ErrClosed
	}
	var subjectID *string
	if a.Subject != nil {
		p, err := c.pseudonyms.pseudonym(a.Subject)
		if err != nil {
			return "", err
		}
		subjectID = &p
	}
	eventID := a.EventID
	if eventID == "" {
		eventID = newUUID()
	}
	occurredAt := a.OccurredAt
	if occurredAt.IsZero() {
		occurredAt = c.cfg.Now()
	}
	recordCount := a.RecordCount
	if recordCount == 0 {
		recordCount = 1
	}
	e := eventRecord{
		EventID:                eventID,
		OccurredAtMillis:       occurredAt.UnixMilli(),
		Service:                c.cfg.Service,
		ActorKind:              string(c.cfg.ActorKind),
		ActorID:                c.cfg.ActorID,
		SubjectID:              subjectID,
		Elements:               a.Elements,
		Purpose:                optional(a.Purpose),
		Operation:              orDefault(a.Operation, Read),
		Processing:             orDefault(a.Processing, Raw),
		DestinationKind:        orDefault(a.Destination, Internal),
		DestinationName:        optional(a.DestinationName),
		OriginService:          optional(a.OriginService),
		TargetingOptOut:        a.TargetingOptOut,
		PublicationConsent:     a.PublicationConsent,
		PayrollOtherUseConsent: a.PayrollOtherUseConsent,
		RecordCount:            recordCount,
		TraceID:                optional(a.TraceID),
		Attributes:             a.Attributes,
	}
	if err := checkEvent(&e); err != nil {
		return "", err
	}
	value := appendEvent(append(make([]byte, 0, 256), c.accessHeader...), &e)
	key := eventID
	if subjectID != nil {
		key = *subjectID
	}
	c.metrics.emitted.Inc()
	c.send(c.cfg.TopicRaw, []byte(key), value)
	return eventID, nil
}

// EmitConsent reports a subject's complete current consent choices; errors as Emit.
func (c *Client) EmitConsent(consent Consent) error {
	if c.closed.Load() {
		return ErrClosed
	}
	subjectID, err := c.pseudonyms.pseudonym(consent.Subject)
	if err != nil {
		return err
	}
	r := consentRecord{
		SubjectID:              subjectID,
		OccurredAtMillis:       c.cfg.Now().UnixMilli(),
		TargetingOptOut:        consent.TargetingOptOut,
		PublicationConsent:     consent.PublicationConsent,
		PayrollOtherUseConsent: consent.PayrollOtherUseConsent,
		ThirdPartyLinkConsent:  consent.ThirdPartyLinkConsent,
	}
	if err := checkConsent(&r); err != nil {
		return err
	}
	value := appendConsent(append(make([]byte, 0, 128), c.consentHeader...), &r)
	c.metrics.emitted.Inc()
	c.send(c.cfg.TopicConsent, []byte(subjectID), value)
	return nil
}

// Pseudonym returns the pseudonym this client puts in events for rawID (subject-access
// requests); the error is an *InvalidEventError with field "subject".
func (c *Client) Pseudonym(rawID any) (string, error) {
	return c.pseudonyms.pseudonym(rawID)
}

// Spooled returns how many events wait in the spool.
func (c *Client) Spooled() int64 {
	pending, _ := c.spool.stats()
	return pending
}

// Flush waits until every emitted event is acknowledged by Kafka or on disk in the spool. It
// returns ctx's error if ctx ends first.
func (c *Client) Flush(ctx context.Context) error {
	if err := c.kafka.Flush(ctx); err != nil {
		return err
	}
	return c.spool.sync()
}

// Close delivers what it can until ctx ends, spools the rest and stops; Emit then returns
// ErrClosed. Calling it again does nothing.
func (c *Client) Close(ctx context.Context) error {
	if c.closed.Swap(true) {
		return nil
	}
	c.stop()
	<-c.done
	var errs []error
	if err := c.kafka.Flush(ctx); err != nil {
		// Fail what Kafka did not take in time (the promise spools it); in-flight requests
		// are waited for briefly, so nothing is sent twice with the same sequence.
		abortCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := c.kafka.AbortBufferedRecords(abortCtx); err != nil {
			errs = append(errs, fmt.Errorf("dua: events still in flight at close: %w", err))
		}
		cancel()
	}
	c.kafka.Close()
	errs = append(errs, c.spool.close())
	c.metrics.unregister()
	return errors.Join(errs...)
}

// newUUID returns a random (version 4) UUID as lower-case text.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return uuidText(u)
}
