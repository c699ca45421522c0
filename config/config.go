// Package config reads Vigil's YAML configuration. Decoding is strict: an
// unknown key is an error that names its line. Relative paths are resolved
// against the directory of the config file. [Config.Validate] reports every
// problem at once, each naming the line and field at fault.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilsec/vigil/intel"
)

// Config is the whole configuration file.
type Config struct {
	Sources     []Source  `yaml:"sources"`
	Intel       []List    `yaml:"intel"`
	Trusted     []List    `yaml:"trusted"`
	Inventory   PathList  `yaml:"inventory"`
	AWSIPRanges string    `yaml:"aws_ip_ranges"`
	Store       Store     `yaml:"store"`
	Listen      string    `yaml:"listen"`
	Detectors   Detectors `yaml:"detectors"`
	Serve       Serve     `yaml:"serve"`
	API         API       `yaml:"api"`

	// File is the path the config was read from ("" when built in code).
	File string `yaml:"-"`
	// lines of top-level keys, for error messages.
	lines map[string]int
}

// Source is a file or directory of logs.
type Source struct {
	Path string `yaml:"path"`
	// Type forces a format (vpcflow, cloudtrail, route53) instead of sniffing.
	Type string `yaml:"type"`
	Line int    `yaml:"-"`
}

// UnmarshalYAML records the line of the entry.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	type plain Source
	if err := decodeStrict(n, (*plain)(s)); err != nil {
		return err
	}
	s.Line = n.Line
	return nil
}

// List is a threat-intelligence or trusted list.
type List struct {
	Name     string `yaml:"name"`
	Category string `yaml:"category"`
	Format   string `yaml:"format"`
	Path     string `yaml:"path"`
	// Column selects the CSV column: a 0-based index or a header name.
	Column string `yaml:"column"`
	Line   int    `yaml:"-"`
}

// UnmarshalYAML records the line of the entry.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	type plain List
	if err := decodeStrict(n, (*plain)(l)); err != nil {
		return err
	}
	l.Line = n.Line
	return nil
}

// PathList is one path or a list of paths.
type PathList []string

// UnmarshalYAML accepts a scalar or a sequence.
func (p *PathList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*p = PathList{n.Value}
		return nil
	}
	var ss []string
	if err := n.Decode(&ss); err != nil {
		return err
	}
	*p = ss
	return nil
}

// Store configures the findings store.
type Store struct {
	Path string `yaml:"path"`
}

// API configures the HTTP API's authentication. With no token the API
// only listens on loopback addresses.
type API struct {
	// TokenEnv names an environment variable holding the bearer token.
	TokenEnv string `yaml:"token_env"`
	// TokenFile names a file holding the bearer token.
	TokenFile string `yaml:"token_file"`
}

// Serve configures the long-running mode.
type Serve struct {
	// PollInterval is how often sources are checked for new data.
	PollInterval Duration `yaml:"poll_interval"`
	// CommitInterval bounds how long findings and positions wait before they
	// are committed to the store together.
	CommitInterval Duration `yaml:"commit_interval"`
}

// Detectors holds detector settings. Zero values mean the defaults.
type Detectors struct {
	// Disabled lists finding types (or type prefixes ending in "*") not to report.
	Disabled []string `yaml:"disabled"`
	// ProbeIgnoredPorts are local ports never reported as unprotected (default 80, 443).
	ProbeIgnoredPorts []int `yaml:"probe_ignored_ports"`
	// EMRPorts are the ports that make a probe an EMR finding.
	EMRPorts []int `yaml:"emr_ports"`
	// TorRelayMinPeers is how many distinct Tor relays must connect inbound
	// before an instance is called a relay (default 3).
	TorRelayMinPeers int `yaml:"tor_relay_min_peers"`
}

// Duration is a time.Duration written as "10s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q: %w", n.Line, n.Value, err)
	}
	*d = Duration(v)
	return nil
}

// Defaults.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultStorePath      = "data/vigil.db"
	DefaultPollInterval   = 2 * time.Second
	DefaultCommitInterval = time.Second
)

// Categories of threat lists.
var Categories = []string{"tor-exit", "tor-relay", "mining", "c2", "malware", "phishing", "drop-point", "blackhole", "scanner", "malicious", "custom"}

// ListFormats are the list file formats (intel.Formats).
var ListFormats = intel.Formats

// SourceTypes are the log formats a source may force.
var SourceTypes = []string{"vpcflow", "cloudtrail", "route53"}

func decodeStrict(n *yaml.Node, v any) error {
	// Node.Decode does not honour KnownFields, so check the keys against the
	// struct's yaml tags first; the error names the key's own line.
	if n.Kind == yaml.MappingNode {
		t := reflect.TypeOf(v).Elem()
		known := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				known[name] = true
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				return fmt.Errorf("line %d: field %s not found in type %s", k.Line, k.Value, t.Name())
			}
		}
	}
	return n.Decode(v)
}

// Load reads and decodes a config file. It does not validate paths; call
// Validate for that.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.File = path
	c.resolve(filepath.Dir(path))
	return c, nil
}

// Parse decodes a config document. Relative paths stay relative.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	if len(bytes.TrimSpace(b)) == 0 {
		c.applyDefaults()
		return c, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	c.lines = map[string]int{}
	if len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			c.lines[m.Content[i].Value] = m.Content[i].Line
		}
	}
	dec = yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	c.applyDefaults()
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Store.Path == "" {
		c.Store.Path = DefaultStorePath
	}
	if c.Serve.PollInterval == 0 {
		c.Serve.PollInterval = Duration(DefaultPollInterval)
	}
	if c.Serve.CommitInterval == 0 {
		c.Serve.CommitInterval = Duration(DefaultCommitInterval)
	}
}

func (c *Config) resolve(dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || p == ":memory:" {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i := range c.Sources {
		c.Sources[i].Path = abs(c.Sources[i].Path)
	}
	for i := range c.Intel {
		c.Intel[i].Path = abs(c.Intel[i].Path)
	}
	for i := range c.Trusted {
		c.Trusted[i].Path = abs(c.Trusted[i].Path)
	}
	for i := range c.Inventory {
		c.Inventory[i] = abs(c.Inventory[i])
	}
	c.AWSIPRanges = abs(c.AWSIPRanges)
	c.Store.Path = abs(c.Store.Path)
	c.API.TokenFile = abs(c.API.TokenFile)
}

// Validate checks the config and the files it names, and returns every
// problem joined, each naming the config file, the line and the field.
func (c *Config) Validate() error {
	var errs []error
	file := c.File
	if file == "" {
		file = "config"
	}
	add := func(line int, format string, args ...any) {
		loc := file
		if line > 0 {
			loc = fmt.Sprintf("%s:%d", file, line)
		}
		errs = append(errs, fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...)))
	}
	exists := func(line int, field, p string, wantDir bool) {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			add(line, "%s: %v", field, unwrapPathErr(err))
		case wantDir && false:
		case !wantDir && st.IsDir():
			add(line, "%s: %q is a directory, want a file", field, p)
		}
	}
	for i, s := range c.Sources {
		f := fmt.Sprintf("sources[%d].path", i)
		if s.Path == "" {
			add(s.Line, "%s: missing", f)
		} else if _, err := os.Stat(s.Path); err != nil {
			add(s.Line, "%s: %v", f, unwrapPathErr(err))
		}
		if s.Type != "" && !contains(SourceTypes, s.Type) {
			add(s.Line, "sources[%d].type: %q is not one of %s", i, s.Type, strings.Join(SourceTypes, ", "))
		}
	}
	names := map[string]bool{}
	checkList := func(kind string, i int, l List, trusted bool) {
		f := fmt.Sprintf("%s[%d]", kind, i)
		if l.Name == "" {
			add(l.Line, "%s.name: missing", f)
		} else if names[l.Name] {
			add(l.Line, "%s.name: %q is used by another list", f, l.Name)
		}
		names[l.Name] = true
		if !trusted {
			if l.Category == "" {
				add(l.Line, "%s.category: missing (one of %s)", f, strings.Join(Categories, ", "))
			} else if !contains(Categories, l.Category) {
				add(l.Line, "%s.category: %q is not one of %s", f, l.Category, strings.Join(Categories, ", "))
			}
		} else if l.Category != "" && l.Category != "trusted" {
			add(l.Line, "%s.category: trusted lists take no category (got %q)", f, l.Category)
		}
		if l.Format == "" {
			add(l.Line, "%s.format: missing (one of %s)", f, strings.Join(ListFormats, ", "))
		} else if !contains(ListFormats, l.Format) {
			add(l.Line, "%s.format: %q is not one of %s", f, l.Format, strings.Join(ListFormats, ", "))
		}
		if l.Format == "csv" && l.Column == "" {
			add(l.Line, "%s.column: missing: a csv list needs the column (0-based index or header name)", f)
		}
		if l.Column != "" && l.Format != "csv" {
			add(l.Line, "%s.column: only csv lists take a column", f)
		}
		if l.Path == "" {
			add(l.Line, "%s.path: missing", f)
		} else {
			exists(l.Line, f+".path", l.Path, false)
		}
	}
	for i, l := range c.Intel {
		checkList("intel", i, l, false)
	}
	for i, l := range c.Trusted {
		checkList("trusted", i, l, true)
	}
	for i, p := range c.Inventory {
		exists(c.lines["inventory"], fmt.Sprintf("inventory[%d]", i), p, false)
	}
	if c.AWSIPRanges != "" {
		exists(c.lines["aws_ip_ranges"], "aws_ip_ranges", c.AWSIPRanges, false)
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			add(c.lines["listen"], "listen: %q: want host:port", c.Listen)
		}
	}
	if c.Store.Path == "" {
		add(c.lines["store"], "store.path: missing")
	}
	for i, p := range c.Detectors.ProbeIgnoredPorts {
		if p < 0 || p > 65535 {
			add(c.lines["detectors"], "detectors.probe_ignored_ports[%d]: %d is not a port", i, p)
		}
	}
	for i, p := range c.Detectors.EMRPorts {
		if p < 0 || p > 65535 {
			add(c.lines["detectors"], "detectors.emr_ports[%d]: %d is not a port", i, p)
		}
	}
	if c.Detectors.TorRelayMinPeers < 0 {
		add(c.lines["detectors"], "detectors.tor_relay_min_peers: must not be negative")
	}
	return errors.Join(errs...)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
