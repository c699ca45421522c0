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
	"regexp"
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
	Accounts    []Account `yaml:"accounts"`
	GuardDuty   GuardDuty `yaml:"guardduty"`

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

// Account is an AWS account whose findings Vigil keeps and which may call
// the GuardDuty API with its access keys.
type Account struct {
	ID string `yaml:"id"`
	// Administrator makes the account start as an enabled member of that
	// administrator account.
	Administrator string      `yaml:"administrator"`
	AccessKeys    []AccessKey `yaml:"access_keys"`
	Line          int         `yaml:"-"`
}

// UnmarshalYAML records the line of the entry.
func (a *Account) UnmarshalYAML(n *yaml.Node) error {
	type plain Account
	if err := decodeStrict(n, (*plain)(a)); err != nil {
		return err
	}
	a.Line = n.Line
	return nil
}

// AccessKey is an access key id and where its secret comes from: exactly
// one of Secret, SecretEnv and SecretFile.
type AccessKey struct {
	ID         string `yaml:"id"`
	Secret     string `yaml:"secret"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

// String never shows the secret.
func (k AccessKey) String() string { return "access key " + k.ID }

// ResolveSecret returns the key's secret from where the config says.
func (k AccessKey) ResolveSecret() (string, error) {
	switch {
	case k.Secret != "":
		return k.Secret, nil
	case k.SecretEnv != "":
		v := os.Getenv(k.SecretEnv)
		if v == "" {
			return "", fmt.Errorf("access key %s: environment variable %s is not set", k.ID, k.SecretEnv)
		}
		return v, nil
	case k.SecretFile != "":
		b, err := os.ReadFile(k.SecretFile)
		if err != nil {
			return "", fmt.Errorf("access key %s: secret_file: %w", k.ID, unwrapPathErr(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("access key %s: secret_file %s is empty", k.ID, k.SecretFile)
		}
		return v, nil
	}
	return "", fmt.Errorf("access key %s: no secret, secret_env or secret_file", k.ID)
}

// GuardDuty configures the GuardDuty-compatible API, and declares filters
// and lists as code: they are created or updated at start and shown as
// managed by config.
type GuardDuty struct {
	// MembersCanArchive lets member accounts archive their own findings.
	MembersCanArchive bool        `yaml:"members_can_archive"`
	Filters           []GDFilter  `yaml:"filters"`
	ThreatIntelSets   []GDListSet `yaml:"threat_intel_sets"`
	IPSets            []GDListSet `yaml:"ip_sets"`
}

// GDFilter is a filter (action ARCHIVE: a suppression rule) as code.
type GDFilter struct {
	Account     string `yaml:"account"`
	Region      string `yaml:"region"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Action      string `yaml:"action"`
	Rank        int    `yaml:"rank"`
	// Criteria is GuardDuty's findingCriteria: {criterion: {attr: {op: value}}}.
	Criteria map[string]any `yaml:"finding_criteria"`
	Line     int            `yaml:"-"`
}

// UnmarshalYAML records the line of the entry.
func (f *GDFilter) UnmarshalYAML(n *yaml.Node) error {
	type plain GDFilter
	if err := decodeStrict(n, (*plain)(f)); err != nil {
		return err
	}
	f.Line = n.Line
	return nil
}

// GDListSet is a threat intel set or IP set as code.
type GDListSet struct {
	Account  string `yaml:"account"`
	Region   string `yaml:"region"`
	Name     string `yaml:"name"`
	Format   string `yaml:"format"` // TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT, FIRE_EYE
	Location string `yaml:"location"`
	Activate *bool  `yaml:"activate"`
	Line     int    `yaml:"-"`
}

// UnmarshalYAML records the line of the entry.
func (l *GDListSet) UnmarshalYAML(n *yaml.Node) error {
	type plain GDListSet
	if err := decodeStrict(n, (*plain)(l)); err != nil {
		return err
	}
	l.Line = n.Line
	return nil
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
	for i := range c.Accounts {
		for j := range c.Accounts[i].AccessKeys {
			c.Accounts[i].AccessKeys[j].SecretFile = abs(c.Accounts[i].AccessKeys[j].SecretFile)
		}
	}
	for i := range c.GuardDuty.ThreatIntelSets {
		if l := c.GuardDuty.ThreatIntelSets[i].Location; !strings.Contains(l, "://") {
			c.GuardDuty.ThreatIntelSets[i].Location = abs(l)
		}
	}
	for i := range c.GuardDuty.IPSets {
		if l := c.GuardDuty.IPSets[i].Location; !strings.Contains(l, "://") {
			c.GuardDuty.IPSets[i].Location = abs(l)
		}
	}
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
	errs = append(errs, c.validateAccounts(file)...)
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

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// GuardDutyFormats are the list formats of GuardDuty's IP and threat intel sets.
var GuardDutyFormats = []string{"TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT", "FIRE_EYE"}

func (c *Config) validateAccounts(file string) []error {
	var errs []error
	add := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	ids := map[string]bool{}
	keys := map[string]bool{}
	for i, a := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		if !accountID.MatchString(a.ID) {
			add(a.Line, "%s.id: %q is not a 12-digit AWS account id (quote it in YAML)", f, a.ID)
		}
		if ids[a.ID] {
			add(a.Line, "%s.id: account %s is listed twice", f, a.ID)
		}
		ids[a.ID] = true
		for j, k := range a.AccessKeys {
			kf := fmt.Sprintf("%s.access_keys[%d]", f, j)
			if len(k.ID) < 16 || len(k.ID) > 128 {
				add(a.Line, "%s.id: %q is not an access key id (16 to 128 characters)", kf, k.ID)
			}
			if keys[k.ID] {
				add(a.Line, "%s.id: access key %s is used twice", kf, k.ID)
			}
			keys[k.ID] = true
			n := 0
			for _, v := range []string{k.Secret, k.SecretEnv, k.SecretFile} {
				if v != "" {
					n++
				}
			}
			if n != 1 {
				add(a.Line, "%s: give exactly one of secret, secret_env, secret_file", kf)
			} else if _, err := k.ResolveSecret(); err != nil {
				add(a.Line, "%s: %v", kf, err)
			}
		}
	}
	for i, a := range c.Accounts {
		if a.Administrator == "" {
			continue
		}
		f := fmt.Sprintf("accounts[%d].administrator", i)
		switch {
		case a.Administrator == a.ID:
			add(a.Line, "%s: an account cannot administer itself", f)
		case !ids[a.Administrator]:
			add(a.Line, "%s: %q is not an account listed here", f, a.Administrator)
		}
		for _, b := range c.Accounts {
			if b.ID == a.Administrator && b.Administrator != "" {
				add(a.Line, "%s: %s is itself a member; an account cannot be both administrator and member", f, b.ID)
			}
		}
	}
	checkOwner := func(line int, f, account, region string) {
		if !ids[account] {
			add(line, "%s.account: %q is not an account listed under accounts", f, account)
		}
		if region == "" {
			add(line, "%s.region: missing", f)
		}
	}
	names := map[string]bool{}
	for i, flt := range c.GuardDuty.Filters {
		f := fmt.Sprintf("guardduty.filters[%d]", i)
		checkOwner(flt.Line, f, flt.Account, flt.Region)
		if len(flt.Name) < 3 || len(flt.Name) > 64 {
			add(flt.Line, "%s.name: %q must be 3 to 64 characters", f, flt.Name)
		}
		k := flt.Account + "/" + flt.Region + "/" + flt.Name
		if names[k] {
			add(flt.Line, "%s.name: %q is used twice in that account and region", f, flt.Name)
		}
		names[k] = true
		if flt.Action != "" && flt.Action != "NOOP" && flt.Action != "ARCHIVE" {
			add(flt.Line, "%s.action: %q is not NOOP or ARCHIVE", f, flt.Action)
		}
		if flt.Rank < 0 || flt.Rank > 100 {
			add(flt.Line, "%s.rank: %d is not between 1 and 100", f, flt.Rank)
		}
		if len(flt.Criteria) == 0 {
			add(flt.Line, "%s.finding_criteria: missing", f)
		}
	}
	sets := func(kind string, ls []GDListSet) {
		for i, l := range ls {
			f := fmt.Sprintf("guardduty.%s[%d]", kind, i)
			checkOwner(l.Line, f, l.Account, l.Region)
			if l.Name == "" {
				add(l.Line, "%s.name: missing", f)
			}
			if !contains(GuardDutyFormats, l.Format) {
				add(l.Line, "%s.format: %q is not one of %s", f, l.Format, strings.Join(GuardDutyFormats, ", "))
			}
			if l.Location == "" {
				add(l.Line, "%s.location: missing", f)
			} else if !strings.Contains(l.Location, "://") {
				if _, err := os.Stat(l.Location); err != nil {
					add(l.Line, "%s.location: %v", f, unwrapPathErr(err))
				}
			}
		}
	}
	sets("threat_intel_sets", c.GuardDuty.ThreatIntelSets)
	sets("ip_sets", c.GuardDuty.IPSets)
	return errs
}
