package dua

import "embed"

// The Avro schemas the SDK writes, copies of schemas/src/dua_schemas/avro (a test checks they
// are equal); sent to a schema registry when one is configured.
//
//go:embed avro/DataAccessEvent/v1.avsc avro/ConsentChange/v1.avsc
var schemaFiles embed.FS

func schemaText(record string) string {
	data, err := schemaFiles.ReadFile("avro/" + record + "/v1.avsc")
	if err != nil {
		panic("dua: schema " + record + " is missing from the SDK: " + err.Error())
	}
	return string(data)
}
