package dua_test

import (
	"context"
	"os"

	"dua"

	"github.com/prometheus/client_golang/prometheus"
)

// The README's quick start (compiled, not run: it needs a broker).
func ExampleNew() {
	ctx := context.Background()
	userID := int64(12345)
	audit, err := dua.New(ctx, dua.Config{
		Service: "jalan", SubjectKey: os.Getenv("DUA_SUBJECT_KEY"),
		Brokers: []string{"kafka:9092"}, SpoolDir: "/var/lib/jalan/dua-spool",
		Registerer: prometheus.DefaultRegisterer,
	})
	if err != nil {
		return
	}
	defer audit.Close(context.Background()) // delivers what it can, spools the rest
	_, _ = audit.Emit(dua.Access{Elements: []string{"user.content.survey_answer"},
		Purpose: "research.surveys", Subject: userID}) // validated; never waits for Kafka
}
