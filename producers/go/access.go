package dua

import "time"

// ActorKind says who accessed the data.
type ActorKind string

// The actor kinds of the contract.
const (
	ActorService  ActorKind = "SERVICE"
	ActorEmployee ActorKind = "EMPLOYEE"
	ActorUser     ActorKind = "USER"
	ActorPartner  ActorKind = "PARTNER"
	ActorBatchJob ActorKind = "BATCH_JOB"
)

// Operation is what was done with the data.
type Operation string

// The operations of the contract; the zero value means Read.
const (
	Read   Operation = "READ"
	Write  Operation = "WRITE"
	Delete Operation = "DELETE"
	Export Operation = "EXPORT"
	Share  Operation = "SHARE"
	Join   Operation = "JOIN"
)

// Processing is the state of what was accessed.
type Processing string

// The processing states of the contract; the zero value means Raw.
const (
	Raw           Processing = "RAW"
	Pseudonymized Processing = "PSEUDONYMIZED"
	Statistical   Processing = "STATISTICAL"
)

// DestinationKind says where the data went.
type DestinationKind string

// The destination kinds of the contract; the zero value means Internal.
const (
	Internal             DestinationKind = "INTERNAL"
	GroupService         DestinationKind = "GROUP_SERVICE"
	ClientCompany        DestinationKind = "CLIENT"
	AdPlatform           DestinationKind = "AD_PLATFORM"
	Employer             DestinationKind = "EMPLOYER"
	Public               DestinationKind = "PUBLIC"
	FinancialInstitution DestinationKind = "FINANCIAL_INSTITUTION"
)

// Access is one access to personal data: which elements, for which purpose, sent where.
// Element codes only, never values. The zero value of every optional field means "absent"
// (or the contract's default): an empty Purpose is no purpose, an empty Operation is Read.
type Access struct {
	// Elements are the element codes touched, e.g. "user.name"; at least one.
	Elements []string
	// Purpose is the purpose code, e.g. "service.points_program".
	Purpose string
	// Subject is the raw id of the person: a string, an integer (int, int64, uint64, *big.Int
	// inside the int64 range) or a UUID (any [16]byte type). Only its pseudonym leaves the
	// process. nil: no subject.
	Subject         any
	Operation       Operation
	Processing      Processing
	Destination     DestinationKind
	DestinationName string
	// OriginService is the service where the data was collected ("": the emitting service).
	OriginService          string
	TargetingOptOut        bool
	PublicationConsent     bool
	PayrollOtherUseConsent bool
	// RecordCount is how many records were touched; 0 means the contract's default, 1.
	RecordCount int64
	TraceID     string
	Attributes  map[string]string
	// EventID is a fixed event id (a UUID); "": a random one is made at emit time.
	EventID string
	// OccurredAt is when the access happened; zero: the client's clock at emit time.
	OccurredAt time.Time
}

// Consent is a subject's complete current consent choices (false: not given).
type Consent struct {
	Subject                any
	TargetingOptOut        bool
	PublicationConsent     bool
	PayrollOtherUseConsent bool
	// ThirdPartyLinkConsent: consent to provide informative data to a recipient who can link
	// it to the person (APPI Art. 31); ConsentChange v2.
	ThirdPartyLinkConsent bool
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orDefault[T ~string](v, def T) string {
	if v == "" {
		return string(def)
	}
	return string(v)
}
