package faults

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// logRecord is one line of a process's JSON log.
type logRecord map[string]any

// readLog returns the JSON records of a process's log file, skipping lines
// that are not JSON, such as go-redis's own messages.
func readLog(tb testing.TB, path string) []logRecord {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read log: %v", err)
	}
	var records []logRecord
	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for scanner.Scan() {
		var r logRecord
		if json.Unmarshal(scanner.Bytes(), &r) == nil {
			records = append(records, r)
		}
	}
	return records
}

// countLines returns the number of lines in a log file.
func countLines(tb testing.TB, path string) int {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read log: %v", err)
	}
	return bytes.Count(data, []byte("\n"))
}

// recordsWithMessage returns the records whose msg is msg.
func recordsWithMessage(records []logRecord, msg string) []logRecord {
	var out []logRecord
	for _, r := range records {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}
