package dua

import "embed"

// The Avro schemas the SDK writes, copies of schemas/src/dua_schemas/avro (a test checks they
// are equal); sent to a schema registry when one is configured.
//
//go:embed avro/DataAccessEvent/v1.avsc avro/ConsentChange/v2.avsc
var schemaFiles embed.FS

// schemaVersions: the version of each record the SDK writes (the newest).
var schemaVersions = map[string]string{"DataAccessEvent": "v1", "ConsentChange": "v2"}

func schemaText(record string) string {
	data, err := schemaFiles.ReadFile("avro/" + record + "/" + schemaVersions[record] + ".avsc")
	if err != nil {
		panic("dua: schema " + record + " is missing from the SDK: " + err.Error())
	}
	return string(data)
}
