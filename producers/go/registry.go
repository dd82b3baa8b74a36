package dua

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// registerSchema registers schema under subject with a Confluent-compatible schema registry
// (the one REST call the SDK needs) and returns its id.
func registerSchema(ctx context.Context, client *http.Client, url, subject, schema string) (uint32, error) {
	body, err := json.Marshal(map[string]string{"schema": schema})
	if err != nil {
		return 0, err
	}
	endpoint := strings.TrimSuffix(url, "/") + "/subjects/" + subject + "/versions"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("dua: schema registry did not answer: %w", err)
	}
	defer resp.Body.Close()
	var answer struct {
		ID *uint32 `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode/100 != 2 || answer.ID == nil {
		return 0, fmt.Errorf("dua: schema registry answered %d for %s", resp.StatusCode, subject)
	}
	return *answer.ID, nil
}
