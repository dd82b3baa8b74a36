// Command dua-scripted is a service using the Go SDK that the Python integration tests drive
// line by line over stdin: one command per line, one answer per line on stdout ("ok ..." or
// "error ..."; logs go to stderr). It speaks the protocol of the Java SDK's ScriptedService.
//
// Arguments: bootstrap topicRaw spoolDirectory subjectKey service [deliveryTimeoutMillis].
// Commands:
//
//	emit N PREFIX            N accesses to user.name of subjects PREFIX-0..; answers the event ids, comma-separated
//	access JSON              one access, fields named as the Python SDK's emit arguments; answers its event id
//	flush MILLIS             answers how many events are still on their way (0 or 1: Go's Flush is all or nothing)
//	spooled                  answers how many events the spool holds
//	await-spooled N MILLIS   waits until the spool holds at least N events; answers the spool's count
//	await-drained MILLIS     waits until the spool is empty; answers the spool's count
//	stats                    answers "emitted delivered spooled replayed dropped"
//	close                    closes the client and exits
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	dua "dua"

	"github.com/prometheus/client_golang/prometheus"
)

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: dua-scripted bootstrap topicRaw spoolDirectory subjectKey service [deliveryTimeoutMillis]")
		os.Exit(2)
	}
	registry := prometheus.NewRegistry()
	cfg := dua.Config{
		Brokers:      strings.Split(os.Args[1], ","),
		TopicRaw:     os.Args[2],
		SpoolDir:     os.Args[3],
		SubjectKey:   os.Args[4],
		Service:      os.Args[5],
		TopicConsent: "dua.consent",
		Registerer:   registry,
	}
	if len(os.Args) > 6 {
		ms, err := strconv.Atoi(os.Args[6])
		if err != nil {
			fmt.Fprintln(os.Stderr, "deliveryTimeoutMillis:", err)
			os.Exit(2)
		}
		cfg.DeliveryTimeout = time.Duration(ms) * time.Millisecond
	}
	client, err := dua.New(context.Background(), cfg)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("ok ready")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		command, rest, _ := strings.Cut(in.Text(), " ")
		if command == "close" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := client.Close(ctx)
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, "close:", err)
			}
			fmt.Println("ok closed")
			return
		}
		answer, err := run(client, registry, command, rest)
		if err != nil {
			fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		fmt.Println("ok " + answer)
	}
	client.Close(context.Background())
}

func run(client *dua.Client, registry *prometheus.Registry, command, rest string) (string, error) {
	args := strings.Fields(rest)
	number := func(i int) int64 {
		if i >= len(args) {
			return 0
		}
		n, _ := strconv.ParseInt(args[i], 10, 64)
		return n
	}
	switch command {
	case "emit":
		ids := make([]string, 0, number(0))
		for i := range number(0) {
			id, err := client.Emit(dua.Access{Elements: []string{"user.name"}, Subject: fmt.Sprintf("%s-%d", args[1], i)})
			if err != nil {
				return "", err
			}
			ids = append(ids, id)
		}
		return strings.Join(ids, ","), nil
	case "access":
		a, err := access(rest)
		if err != nil {
			return "", err
		}
		return client.Emit(a)
	case "flush":
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(number(0))*time.Millisecond)
		defer cancel()
		if client.Flush(ctx) != nil {
			return "1", nil
		}
		return "0", nil
	case "spooled":
		return strconv.FormatInt(client.Spooled(), 10), nil
	case "await-spooled":
		await(func() bool { return client.Spooled() >= number(0) }, number(1))
		return strconv.FormatInt(client.Spooled(), 10), nil
	case "await-drained":
		await(func() bool { return client.Spooled() == 0 }, number(0))
		return strconv.FormatInt(client.Spooled(), 10), nil
	case "stats":
		return stats(registry)
	}
	return "", fmt.Errorf("unknown command %s", command)
}

// access reads an access from the Python SDK's emit arguments as JSON.
func access(text string) (dua.Access, error) {
	var f struct {
		Elements               []string          `json:"elements"`
		Purpose                string            `json:"purpose"`
		Subject                *string           `json:"subject"`
		Operation              string            `json:"operation"`
		Processing             string            `json:"processing"`
		Destination            string            `json:"destination"`
		DestinationName        string            `json:"destination_name"`
		OriginService          string            `json:"origin_service"`
		TargetingOptOut        bool              `json:"targeting_opt_out"`
		PublicationConsent     bool              `json:"publication_consent"`
		PayrollOtherUseConsent bool              `json:"payroll_other_use_consent"`
		RecordCount            *int64            `json:"record_count"`
		TraceID                string            `json:"trace_id"`
		EventID                string            `json:"event_id"`
		OccurredAt             string            `json:"occurred_at"`
		Attributes             map[string]string `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		return dua.Access{}, err
	}
	a := dua.Access{
		Elements: f.Elements, Purpose: f.Purpose, Operation: dua.Operation(f.Operation),
		Processing: dua.Processing(f.Processing), Destination: dua.DestinationKind(f.Destination),
		DestinationName: f.DestinationName, OriginService: f.OriginService,
		TargetingOptOut: f.TargetingOptOut, PublicationConsent: f.PublicationConsent,
		PayrollOtherUseConsent: f.PayrollOtherUseConsent, TraceID: f.TraceID, EventID: f.EventID,
		Attributes: f.Attributes,
	}
	if f.Subject != nil {
		a.Subject = *f.Subject
	}
	if f.RecordCount != nil {
		a.RecordCount = *f.RecordCount
	}
	if f.OccurredAt != "" {
		at, err := time.Parse(time.RFC3339Nano, f.OccurredAt)
		if err != nil {
			return dua.Access{}, err
		}
		a.OccurredAt = at
	}
	return a, nil
}

func await(cond func() bool, millis int64) {
	deadline := time.Now().Add(time.Duration(millis) * time.Millisecond)
	for !cond() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func stats(registry *prometheus.Registry) (string, error) {
	families, err := registry.Gather()
	if err != nil {
		return "", err
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			values[f.GetName()] = m.GetCounter().GetValue()
		}
	}
	var out []string
	for _, name := range []string{"emitted", "delivered", "spooled", "replayed", "dropped"} {
		out = append(out, strconv.FormatFloat(values["dua_sdk_events_"+name+"_total"], 'f', 0, 64))
	}
	return strings.Join(out, " "), nil
}
