package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.yaml")
	if len(files) == 0 {
		t.Fatal("no good fixtures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestFullConfig(t *testing.T) {
	c, err := Load("testdata/full.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	if got, want := c.Sources[0].Path, filepath.Join("testdata", "logs"); !strings.HasSuffix(got, want) {
		t.Errorf("sources[0].path = %q, want it resolved against the config dir", got)
	}
	if got := c.Store.Path; got != filepath.Join("testdata", "data/vigil.db") && got != filepath.Join(dir, "data/vigil.db") {
		t.Errorf("store.path = %q", got)
	}
	if c.Sources[1].Type != "vpcflow" || c.Sources[1].Line != 3 {
		t.Errorf("sources[1] = %+v, want type vpcflow on line 3", c.Sources[1])
	}
	if c.Intel[1].Column != "0" || c.Intel[0].Line != 6 {
		t.Errorf("intel = %+v", c.Intel)
	}
	if time.Duration(c.Serve.PollInterval) != 5*time.Second {
		t.Errorf("poll_interval = %v", c.Serve.PollInterval)
	}
	if len(c.Inventory) != 1 || !strings.HasSuffix(c.Inventory[0], "inv.json") {
		t.Errorf("inventory = %v", c.Inventory)
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != DefaultListen || c.Store.Path != DefaultStorePath || time.Duration(c.Serve.PollInterval) != DefaultPollInterval {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings, each must appear
	}{
		{"unknown-key.bad.yaml", []string{"line 4", "colour"}},
		{"unknown-nested.bad.yaml", []string{"line 2", "recursive"}},
		{"accounts.bad.yaml", []string{
			"accounts[1].administrator: \"999999999999\" is not an account",
			"accounts[0].access_keys[0]: give exactly one of secret",
			"accounts[1].access_keys[0].id: access key AKIAVIGILADMIN000001 is used twice",
			"VIGIL_TEST_SURELY_UNSET is not set",
			"guardduty.filters[0].region: missing",
			"guardduty.filters[0].name",
			"guardduty.filters[0].action: \"DELETE\"",
			"guardduty.filters[0].finding_criteria: missing",
			"guardduty.ip_sets[0].format: \"CSV\"",
			"guardduty.ip_sets[0].location",
		}},
		{"invalid.bad.yaml", []string{
			"invalid.bad.yaml:2: sources[0].path",
			"invalid.bad.yaml:3: sources[1].type: \"syslog\"",
			"invalid.bad.yaml:5: intel[0].category: \"evil\"",
			"invalid.bad.yaml:6: intel[1].name: \"a\" is used",
			"intel[1].format: \"xml\"",
			"intel[1].path",
			"invalid.bad.yaml:7: intel[2].column: missing",
			"trusted[0].name: missing",
			"invalid.bad.yaml:10: inventory[0]",
			"listen: \"8080\"",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", tt.file))
			if err == nil {
				err = c.Validate()
			}
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "sources: [{path: x}]", "listen: a:1\nstore: {path: x}", "intel:\n - {name: a}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err == nil {
			_ = c.Validate()
		}
	})
}

func TestSecretsNeverPrinted(t *testing.T) {
	c, err := Load("testdata/accounts.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := c.Accounts[0].AccessKeys[0]
	if s := fmt.Sprint(k); strings.Contains(s, "admin-secret-value") {
		t.Errorf("printing a key shows its secret: %s", s)
	}
	if s, err := c.Accounts[1].AccessKeys[0].ResolveSecret(); err != nil || s != "member-secret" {
		t.Errorf("secret_file: %q, %v", s, err)
	}
}
