package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/decode"
	"github.com/vigilsec/vigil/event"
)

const pantherDir = "../../../shared/eval/panther-analysis"

// yamlToJSON converts a YAML node to JSON, keeping scalars as written:
// strings stay strings, numbers stay number literals.
func yamlToJSON(dst []byte, n *yaml.Node) ([]byte, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return yamlToJSON(dst, n.Content[0])
	case yaml.AliasNode:
		return yamlToJSON(dst, n.Alias)
	case yaml.MappingNode:
		dst = append(dst, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendQuote(dst, n.Content[i].Value)
			dst = append(dst, ':')
			var err error
			if dst, err = yamlToJSON(dst, n.Content[i+1]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case yaml.SequenceNode:
		dst = append(dst, '[')
		for i, c := range n.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = yamlToJSON(dst, c); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return append(dst, "null"...), nil
		case "!!bool":
			return strconv.AppendBool(dst, n.Value == "true" || n.Value == "True" || n.Value == "TRUE"), nil
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				return append(dst, n.Value...), nil
			}
		}
		b, _ := json.Marshal(n.Value)
		return append(dst, b...), nil
	}
	return nil, fmt.Errorf("unsupported YAML node kind %v", n.Kind)
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

type pantherEvent struct {
	where string // file: test name
	json  []byte
}

// pantherCloudTrail extracts the CloudTrail test events of the Panther rules.
func pantherCloudTrail(t *testing.T) []pantherEvent {
	if _, err := os.Stat(pantherDir); err != nil {
		t.Skipf("Panther corpus not found at %s (see /work/shared/eval/panther-analysis/SOURCE.md): %v", pantherDir, err)
	}
	var out []pantherEvent
	err := filepath.WalkDir(filepath.Join(pantherDir, "rules"), func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		root := doc.Content[0]
		var logTypes []string
		if lt := mapGet(root, "LogTypes"); lt != nil {
			for _, c := range lt.Content {
				logTypes = append(logTypes, c.Value)
			}
		}
		tests := mapGet(root, "Tests")
		if tests == nil {
			return nil
		}
		for _, tc := range tests.Content {
			log := mapGet(tc, "Log")
			if log == nil || log.Kind != yaml.MappingNode {
				continue
			}
			pt := mapGet(log, "p_log_type")
			isCT := false
			switch {
			case pt != nil:
				isCT = pt.Value == "AWS.CloudTrail"
			case slices.Contains(logTypes, "AWS.CloudTrail"):
				isCT = len(logTypes) == 1 || mapGet(log, "eventName") != nil
			}
			if !isCT {
				continue
			}
			j, err := yamlToJSON(nil, log)
			if err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			name := ""
			if n := mapGet(tc, "Name"); n != nil {
				name = n.Value
			}
			rel, _ := filepath.Rel(pantherDir, path)
			out = append(out, pantherEvent{where: rel + ": " + name, json: j})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPantherCorpus decodes the CloudTrail test events embedded in the
// Panther rules, one per line, and compares each with the reference decoder.
func TestPantherCorpus(t *testing.T) {
	evs := pantherCloudTrail(t)
	var in bytes.Buffer
	for _, e := range evs {
		in.Write(e.json)
		in.WriteByte('\n')
	}
	d := NewDecoder(&in)
	var ev event.Event
	ok, malformed := 0, 0
	reasons := map[string]int{}
	for i := 0; ; i++ {
		err := d.Next(&ev)
		if err == io.EOF {
			if i != len(evs) {
				t.Fatalf("decoded %d records, want %d", i, len(evs))
			}
			break
		}
		e := evs[i]
		var re *decode.RecordError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("%s: fatal error %v", e.where, err)
		}
		var m map[string]any
		if jerr := json.Unmarshal(e.json, &m); jerr != nil {
			t.Fatalf("%s: converted event is not JSON: %v", e.where, jerr)
		}
		_, ts := m["eventTime"].(string)
		_, ns := m["eventName"].(string)
		_, ss := m["eventSource"].(string)
		wellFormed := ts && ns && ss
		if wellFormed {
			if _, good := parseTime([]byte(m["eventTime"].(string))); !good {
				// A deliberately fake time ("redacted"): not well-formed.
				t.Logf("%s: eventTime %q is not a time; reported as %v", e.where, m["eventTime"], err)
				wellFormed = false
			}
		}
		if err != nil {
			malformed++
			reasons[re.Field+": "+errors.Unwrap(re).Error()]++
			if wellFormed {
				t.Errorf("%s: well-formed record failed: %v\n%s", e.where, err, e.json)
			}
			continue
		}
		ok++
		want, rerr := refDecode(e.json)
		if rerr != nil {
			t.Errorf("%s: reference decoder fails on a record the decoder accepts: %v", e.where, rerr)
			continue
		}
		if diff := diffAPI(cloneAPI(ev.API), want); diff != "" {
			t.Errorf("%s: differs from reference: %s", e.where, diff)
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t.Logf("Panther CloudTrail test events: %d total, %d decoded, %d reported malformed", len(evs), ok, malformed)
	for _, k := range keys {
		t.Logf("  malformed: %3d × %s", reasons[k], k)
	}
}

// TestElasticCorpus looks for CloudTrail samples in the Elastic
// integrations corpus.
func TestElasticCorpus(t *testing.T) {
	dir := "../../../shared/eval/elastic-integrations-aws"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("Elastic corpus not found at %s: %v", dir, err)
	}
	found := 0
	filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if Sniff(data[:min(len(data), 4096)]) == Records {
			found++
			t.Errorf("%s sniffs as CloudTrail; add it to the corpus test", path)
		}
		return nil
	})
	if found == 0 {
		t.Skipf("no CloudTrail samples in %s (it holds VPC Flow, Route 53 and GuardDuty fixtures only; none sniff as CloudTrail)", dir)
	}
}
